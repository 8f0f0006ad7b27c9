// Backfill: the gaps of tracked streams filled with IB's historical ticks
// (reqHistoricalTicks), one request at a time, paged by time (1000 ticks
// per request, whole seconds), paced within IB's limits (HistoricalPacer).
//
// Seams: a gap lies between the last tick recorded before it (second
// `from`, of which `skip_from` ticks are recorded) and the first after it
// (second `to`, of which `skip_to` are recorded). Historical ticks of the
// seconds in between are all new; of second `from` the first skip_from are
// already recorded, of second `to` the last skip_to: neither is written
// twice. Backfilled rows take the gap's seq (the last tick before it) and
// sub 1, 2, ... in time order.
#include "record/recorder_impl.hpp"

#include "stream/tick_fields.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <ctime>

namespace asio = boost::asio;

namespace record {
namespace {

constexpr int kPage = 1000;
constexpr int kMaxFailures = 3;

std::string what_to_show(tws::TickType t) {
  switch (t) {
  case tws::TickType::last:
  case tws::TickType::all_last: return "TRADES";
  case tws::TickType::bid_ask: return "BID_ASK";
  case tws::TickType::mid_point: return "MIDPOINT";
  }
  return "TRADES";
}

/// "yyyymmdd-hh:mm:ss" in UTC.
std::string ib_utc(std::int64_t unix_s) {
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H:%M:%S", &tm);
  return buf;
}

/// Whether a historical trade is one the Last stream carries: IB's Last
/// leaves out trades reported as unreportable and those with special
/// conditions that keep them out of the last price (odd lots, form T).
bool in_last(const tws::TickByTickLast& t) { return !t.unreported && t.special_conditions.empty(); }

} // namespace

void Recorder::Impl::push_gap(const GapState& g) { queue.push(WriterQueue::GapOp{g.gap, g.id}); }

void Recorder::Impl::enqueue_backfill(BackfillJob job) {
  if (!cfg.backfill) {
    job.gap->gap.state = store::Gap::State::unfillable;
    job.gap->gap.detail = "backfill is off";
    job.gap->gap.updated_unix = unix_now();
    push_gap(*job.gap);
    return;
  }
  job.gap->gap.state = store::Gap::State::filling;
  job.gap->gap.updated_unix = unix_now();
  push_gap(*job.gap);
  jobs.push_back(std::move(job));
  run_backfill();
}

void Recorder::Impl::run_backfill() {
  if (job_running || jobs.empty() || stopping) return;
  auto& job = jobs.front();
  const auto& g = job.gap->gap;
  const auto what = what_to_show(g.tick_type);
  const auto start = ib_utc(job.page_start);
  const auto identity = std::to_string(g.con_id) + what + start;
  const auto now = Clock::now();
  const auto at = pacer.earliest(now, g.con_id, what, identity);
  if (at > now) {
    backfill_timer.expires_at(at);
    backfill_timer.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      if (auto self = weak.lock(); self && !ec) self->run_backfill();
    });
    return;
  }
  pacer.sent(now, g.con_id, what, identity);
  job_running = true;
  tws::HistoricalTicksRequest req;
  req.start = start;
  req.count = kPage;
  req.what_to_show = what;
  req.use_rth = false;
  req.ignore_size = false;
  hub->historical_ticks(
      g.con_id, req,
      [weak = weak_from_this()](std::error_code ec, const tws::ErrorMessage* err,
                                std::vector<tws::Tick> ticks) {
        auto self = weak.lock();
        if (!self) return;
        std::optional<tws::ErrorMessage> e;
        if (err) e = *err;
        asio::post(self->loop, [self, ec, e = std::move(e), ticks = std::move(ticks)]() mutable {
          self->job_running = false;
          if (self->stopping || self->jobs.empty()) return;
          self->on_page(ec, e ? &*e : nullptr, std::move(ticks));
        });
      });
}

void Recorder::Impl::on_page(std::error_code ec, const tws::ErrorMessage* err,
                             std::vector<tws::Tick> ticks) {
  auto& job = jobs.front();
  auto& g = job.gap->gap;
  const bool no_data =
      ec && err && err->code == 162 && err->text.find("no data") != std::string::npos;
  if (ec && !no_data) {
    const std::string detail = err ? "TWS error " + std::to_string(err->code) + ": " + err->text
                                   : "historical ticks request failed: " + ec.message();
    if (err && err->text.find("pacing") != std::string::npos) {
      retry_job(std::chrono::seconds(60), detail);
      return;
    }
    if (ec == tws::ClientError::not_connected || ec == tws::ClientError::connection_lost) {
      retry_job(std::chrono::seconds(5), detail); // TWS away: wait, do not give up
      return;
    }
    if (++job.failures >= kMaxFailures) {
      finish_job(job.failures > 0 && g.filled_ticks > 0 ? store::Gap::State::partial
                                                        : store::Gap::State::unfillable,
                 detail);
      return;
    }
    retry_job(std::chrono::seconds(5), detail);
    return;
  }
  // Rows of this page: the seams trimmed, nothing past the gap.
  std::vector<store::TickRecord> rows;
  bool past_end = false;
  std::int64_t last_time = job.page_start - 1;
  const auto recv = now_us();
  for (auto& tick : ticks) {
    const std::int64_t t = stream::tick_time(tick);
    last_time = std::max(last_time, t);
    if (auto* trade = std::get_if<tws::TickByTickLast>(&tick)) {
      if (g.tick_type == tws::TickType::last) {
        if (!in_last(*trade)) continue;
        trade->type = tws::TickType::last;
      } else {
        trade->type = tws::TickType::all_last;
      }
    }
    if (t < job.from) continue;
    if (t > job.to) {
      past_end = true;
      break;
    }
    if (t == job.from && ++job.seen_from <= job.skip_from) continue;
    store::TickRecord r;
    r.con_id = g.con_id;
    r.tick_type = g.tick_type;
    r.seq = g.after_seq;
    r.ib_time = t;
    r.recv_us = recv;
    r.source = store::Source::backfill;
    r.tick = std::move(tick);
    if (t == job.to) job.at_to.push_back(std::move(r)); // trimmed at the end
    else rows.push_back(std::move(r));
  }
  for (auto& r : rows) r.sub = job.next_sub++;
  g.filled_ticks += rows.size();
  if (!rows.empty()) {
    auto c = counters_of({g.con_id, g.tick_type});
    c->pending += rows.size();
    queue.push(rows);
  }
  const bool exhausted = ticks.size() < static_cast<std::size_t>(kPage);
  if (!past_end && !exhausted && last_time < job.to) {
    // The next page starts after the last whole second of this one.
    job.page_start = last_time + 1;
    g.updated_unix = unix_now();
    push_gap(*job.gap);
    run_backfill();
    return;
  }
  if (!past_end && last_time < job.to) {
    // Nothing more from here: when the market was closed in between, the
    // rest of the gap starts at the next open (a closed part has no ticks).
    const std::int64_t cursor = std::max(job.page_start, last_time + 1);
    for (const auto& [closed_from, open_at] : job.closed) {
      if (open_at <= cursor || open_at > job.to || closed_from > job.to) continue;
      job.page_start = open_at;
      g.updated_unix = unix_now();
      push_gap(*job.gap);
      run_backfill();
      return;
    }
  }
  // Done: the ticks of second `to` but the last skip_to (already recorded).
  const std::size_t keep = job.at_to.size() > job.skip_to ? job.at_to.size() - job.skip_to : 0;
  std::vector<store::TickRecord> tail;
  for (std::size_t i = 0; i < keep; ++i) {
    job.at_to[i].sub = job.next_sub++;
    tail.push_back(std::move(job.at_to[i]));
  }
  g.filled_ticks += tail.size();
  if (!tail.empty()) {
    counters_of({g.con_id, g.tick_type})->pending += tail.size();
    queue.push(tail);
  }
  // IB's record should hold at least the ticks we recorded at both seams.
  const bool seams_seen = job.seen_from >= job.skip_from && job.at_to.size() >= job.skip_to;
  if (seams_seen) {
    finish_job(store::Gap::State::filled, no_data ? "no ticks in the gap" : "");
  } else {
    finish_job(
        g.filled_ticks > 0 ? store::Gap::State::partial : store::Gap::State::unfillable,
        std::string("IB's historical ticks do not cover the whole gap") +
            (err ? " (TWS error " + std::to_string(err->code) + ": " + err->text + ")" : ""));
  }
}

void Recorder::Impl::retry_job(std::chrono::milliseconds after, std::string detail) {
  auto& g = jobs.front().gap->gap;
  g.detail = std::move(detail);
  g.updated_unix = unix_now();
  push_gap(*jobs.front().gap);
  spdlog::warn("backfill of {}:{} after seq {}: {}; retrying in {} s", g.con_id,
               tws::to_string(g.tick_type), g.after_seq, g.detail, after.count() / 1000);
  backfill_timer.expires_after(after);
  backfill_timer.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (auto self = weak.lock(); self && !ec) self->run_backfill();
  });
}

void Recorder::Impl::finish_job(store::Gap::State state, std::string detail) {
  auto job = std::move(jobs.front());
  jobs.pop_front();
  auto& g = job.gap->gap;
  g.state = state;
  g.detail = std::move(detail);
  g.updated_unix = unix_now();
  push_gap(*job.gap);
  spdlog::info("backfill of {}:{} after seq {} ({} .. {}): {}, {} ticks{}", g.con_id,
               tws::to_string(g.tick_type), g.after_seq, g.from_time, g.to_time,
               store::to_string(state), g.filled_ticks, g.detail.empty() ? "" : ": " + g.detail);
  run_backfill();
}

} // namespace record

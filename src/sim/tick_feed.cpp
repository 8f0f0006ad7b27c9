#include "sim/tick_feed.hpp"

#include "sim/api_session.hpp"
#include "sim/sim_context.hpp"
#include "sim/tick_frame.hpp"
#include "stream/tick_json.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <optional>

namespace sim {
namespace {

using Clock = EventClock::Clock;

/// Per market and timer firing: a stalled process catches up in slices so
/// that sockets and admin commands get a turn in between.
constexpr std::uint64_t kMaxEventsPerFiring = 50000;
/// The timer wakes at most once per millisecond and then emits every event
/// that is due: high rates are batched, low rates are on time.
constexpr auto kMinWait = std::chrono::milliseconds(1);

std::int64_t wall_clock_unix() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

std::size_t slot(tws::TickType t) { return static_cast<std::size_t>(t); }

} // namespace

TickFeed::TickFeed(SimContext& ctx) : ctx_(ctx), timer_(ctx.strand) {}

bool TickFeed::has(const ApiSession& session, int req_id) const {
  for (const auto& [con_id, m] : markets_)
    for (const auto& s : m.subs)
      if (s.conn == session.serial() && s.req_id == req_id) return true;
  return false;
}

std::size_t TickFeed::active() const {
  std::size_t n = 0;
  for (const auto& [con_id, m] : markets_) n += m.subs.size();
  return n;
}

void TickFeed::subscribe(const std::shared_ptr<ApiSession>& session, int req_id,
                         const CatalogEntry& entry, tws::TickType type, bool ignore_size) {
  const int con_id = entry.con_id();
  auto it = markets_.find(con_id);
  if (it == markets_.end() && ctx_.config.clock == ClockMode::wall) {
    // The market has been running since start_time: join it at the first
    // event not yet due.
    const EventClock clock = wall_clock(con_id, Clock::now());
    const std::uint64_t first = clock.due_end(Clock::now());
    it = markets_.emplace(con_id, Running{&entry, ctx_.archive.at(entry, first), clock, {}}).first;
    spdlog::info("market {} ({}) joined at event {} (wall clock): seed {}, {} events/s, event 0 "
                 "at {}",
                 con_id, entry.details.contract.local_symbol, first, ctx_.config.seed, clock.rate(),
                 clock.start_unix());
  } else if (it == markets_.end()) {
    const double rate = rate_of(con_id);
    const std::int64_t start_unix = ctx_.config.start_time.value_or(wall_clock_unix());
    it = markets_
             .emplace(con_id, Running{&entry,
                                      Market(entry.model, ctx_.config.seed, con_id),
                                      EventClock(rate, start_unix, Clock::now()),
                                      {}})
             .first;
    spdlog::info("market {} ({}) started: seed {}, {} events/s, first tick time {}", con_id,
                 entry.details.contract.local_symbol, ctx_.config.seed, rate, start_unix);
  }
  it->second.subs.push_back(Subscription{session, session->serial(),
                                         session->client_id().value_or(-1), req_id, type, con_id,
                                         ignore_size && type == tws::TickType::bid_ask, 0});
  schedule();
}

bool TickFeed::cancel(const ApiSession& session, int req_id) {
  for (auto& [con_id, m] : markets_) {
    auto it = std::find_if(m.subs.begin(), m.subs.end(), [&](const Subscription& s) {
      return s.conn == session.serial() && s.req_id == req_id;
    });
    if (it != m.subs.end()) {
      m.subs.erase(it);
      return true;
    }
  }
  return false;
}

void TickFeed::cancel_all(const ApiSession& session) {
  for (auto& [con_id, m] : markets_)
    std::erase_if(m.subs, [&](const Subscription& s) { return s.conn == session.serial(); });
}

std::vector<TickFeed::Subscription> TickFeed::forget_all() {
  std::vector<Subscription> out;
  for (auto& [con_id, m] : markets_) {
    out.insert(out.end(), m.subs.begin(), m.subs.end());
    m.subs.clear();
  }
  return out;
}

std::vector<TickFeed::Subscription> TickFeed::subscriptions_of(int con_id) const {
  auto it = markets_.find(con_id);
  if (it == markets_.end()) return {};
  return it->second.subs;
}

void TickFeed::set_rate(int con_id, double rate) {
  auto it = markets_.find(con_id);
  if (it == markets_.end()) {
    rate_overrides_[con_id] = rate;
    return;
  }
  auto& m = it->second;
  m.clock.set_rate(rate, m.market.next_index(), Clock::now());
  // The next event may now be due sooner than the armed timer.
  timer_armed_ = false;
  schedule();
}

EventClock TickFeed::wall_clock(int con_id, Clock::time_point now) const {
  using namespace std::chrono;
  const double wall_now = duration<double>(system_clock::now().time_since_epoch()).count();
  const std::int64_t start = ctx_.config.start_time.value_or(0);
  const auto since_start = duration<double>(wall_now - static_cast<double>(start));
  return EventClock(rate_of(con_id), start, now - duration_cast<Clock::duration>(since_start));
}

std::optional<MarketTimeline> TickFeed::timeline(const CatalogEntry& entry) const {
  const auto now = Clock::now();
  if (auto it = markets_.find(entry.con_id()); it != markets_.end())
    return MarketTimeline{it->second.clock, it->second.clock.due_end(now)};
  if (ctx_.config.clock != ClockMode::wall) return std::nullopt;
  const EventClock clock = wall_clock(entry.con_id(), now);
  return MarketTimeline{clock, clock.due_end(now)};
}

double TickFeed::rate_of(int con_id) const {
  if (auto it = markets_.find(con_id); it != markets_.end()) return it->second.clock.rate();
  if (auto it = rate_overrides_.find(con_id); it != rate_overrides_.end()) return it->second;
  if (auto it = ctx_.config.rates.find(con_id); it != ctx_.config.rates.end()) return it->second;
  return ctx_.config.default_rate;
}

void TickFeed::schedule() {
  if (stopped_ || markets_.empty()) return;
  const auto now = Clock::now();
  auto next = Clock::time_point::max();
  for (const auto& [con_id, m] : markets_)
    next = std::min(next, m.clock.due_at(m.market.next_index()));
  // Overdue (a catch-up slice was cut short): run again right away.
  const auto when = next <= now ? now : std::max(next, now + kMinWait);
  if (timer_armed_ && armed_for_ <= when) return;
  timer_armed_ = true;
  armed_for_ = when;
  const std::uint64_t generation = ++timer_generation_;
  timer_.expires_at(when);
  timer_.async_wait([weak = ctx_.weak_from_this(), generation](boost::system::error_code ec) {
    auto ctx = weak.lock();
    if (!ctx || ec) return;
    ctx->feed.on_timer(generation);
  });
}

void TickFeed::on_timer(std::uint64_t generation) {
  if (generation != timer_generation_ || stopped_) return; // superseded by a re-arm
  timer_armed_ = false;
  const auto now = Clock::now();
  for (auto& [con_id, m] : markets_) {
    const std::uint64_t first = m.market.next_index();
    const std::uint64_t end = std::min(m.clock.due_end(now), first + kMaxEventsPerFiring);
    while (m.market.next_index() < end) {
      const std::int64_t time = m.clock.unix_time(m.market.next_index());
      const MarketEvent ev = m.market.next(time);
      if (m.market.next_index() % MarketArchive::kCheckpointEvery == 0)
        ctx_.archive.offer(*m.entry, m.market);
      publish(m, ev, time);
    }
  }
  schedule();
}

void TickFeed::publish(Running& m, const MarketEvent& ev, std::int64_t time) {
  if (m.subs.empty() || !ctx_.faults.delivering(*m.entry)) return;
  // --hours real: a closed second's ticks exist in the market, not for clients.
  if (!ctx_.hours.open_at(*m.entry, time)) return;
  // Encode only the tick types somebody wants, once each.
  std::array<bool, 5> wanted{};
  for (const auto& s : m.subs) wanted[slot(s.type)] = true;
  std::array<std::optional<TickFrame>, 5> frames;
  if (ev.trade) {
    if (wanted[slot(tws::TickType::all_last)])
      frames[slot(tws::TickType::all_last)].emplace(tws::encode(*ev.trade));
    if (ev.trade_in_last && wanted[slot(tws::TickType::last)]) {
      tws::TickByTickLast last = *ev.trade;
      last.type = tws::TickType::last;
      frames[slot(tws::TickType::last)].emplace(tws::encode(last));
    }
  }
  if (ev.quote && wanted[slot(tws::TickType::bid_ask)])
    frames[slot(tws::TickType::bid_ask)].emplace(tws::encode(*ev.quote));
  if (ev.mid && wanted[slot(tws::TickType::mid_point)])
    frames[slot(tws::TickType::mid_point)].emplace(tws::encode(*ev.mid));
  for (auto& s : m.subs) {
    const auto& frame = frames[slot(s.type)];
    if (!frame || (s.ignore_size && !ev.quote_price_changed)) continue;
    if (auto session = s.session.lock()) {
      session->deliver(*frame, s.req_id);
      ++s.served;
      ++served_;
    }
  }
}

void TickFeed::append_status(std::string& out) const {
  out += "\"subscriptions\":[";
  bool first = true;
  for (const auto& [con_id, m] : markets_) {
    for (const auto& s : m.subs) {
      if (!first) out += ',';
      first = false;
      out += "{\"conn\":" + std::to_string(s.conn) +
             ",\"client_id\":" + std::to_string(s.client_id) +
             ",\"con_id\":" + std::to_string(s.con_id) + ",\"tick_type\":\"" +
             std::string(tws::to_string(s.type)) + "\",\"req_id\":" + std::to_string(s.req_id) +
             ",\"served\":" + std::to_string(s.served) + "}";
    }
  }
  out += "],\"markets\":[";
  first = true;
  for (const auto& [con_id, m] : markets_) {
    if (!first) out += ',';
    first = false;
    out += "{\"con_id\":" + std::to_string(con_id) + ",\"symbol\":";
    stream::append_json_string(out, m.entry->details.contract.local_symbol);
    out += ",\"rate\":";
    stream::append_json_number(out, m.clock.rate());
    out += ",\"events\":" + std::to_string(m.market.next_index()) +
           ",\"first_tick_time\":" + std::to_string(m.clock.start_unix()) +
           ",\"subscribers\":" + std::to_string(m.subs.size()) +
           ",\"delivering\":" + (ctx_.faults.delivering(*m.entry) ? "true" : "false") + "}";
  }
  out += "],\"served_ticks\":" + std::to_string(served_);
}

void TickFeed::stop() {
  stopped_ = true;
  ++timer_generation_;
  timer_armed_ = false;
  timer_.cancel();
}

} // namespace sim

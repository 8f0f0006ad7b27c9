#include "record/tracked_stream.hpp"

#include "stream/tick_fields.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <cinttypes>
#include <cstdio>

namespace asio = boost::asio;

namespace record {
namespace {

std::string label(const StreamKey& k) {
  return std::to_string(k.first) + ":" + std::string(tws::to_string(k.second));
}

/// Notices after which ticks may have been missed.
bool interrupts(std::string_view code) {
  return code == "TWS_DISCONNECTED" || code == "farm_down" || code == "stale" ||
         code == "reconnected" || code.starts_with("TWS_ERROR");
}

} // namespace

TrackedStream::TrackedStream(Recorder::Impl& rec, StreamKey k)
    : key(k), rec_(rec), counters_(rec.counters_of(k)), retry_timer_(rec.loop) {
  // What the record already holds: a restart continues after it, and the
  // time in between is a gap.
  try {
    if (auto last = rec_.store->last_recorded(key.first, key.second)) {
      Last l{last->seq, last->sub, last->ib_time, 0};
      store::Query q;
      q.con_id = key.first;
      q.tick_type = key.second;
      q.start_ms = last->ib_time * 1000;
      q.end_ms = (last->ib_time + 1) * 1000;
      q.limit = 1000000;
      l.at_time = rec_.store->read(q, [](const store::TickRecord&) { return true; });
      last_ = l;
      interrupted_ = "server restart";
      counters_->last_tick_time = last->ib_time;
    }
  } catch (const std::exception& e) {
    spdlog::error("recorder: cannot read the record of {}: {}", label(key), e.what());
  }
}

TrackedStream::~TrackedStream() = default;

void TrackedStream::open(std::function<void(std::optional<stream::OpenError>)> done) {
  stream::OpenRequest req;
  req.con_id = key.first;
  req.tick_type = key.second;
  req.transport = "recorder";
  req.remote = "recorder";
  req.timeout_seconds = 0;
  req.loop = &rec_.loop;
  req.internal = true;
  state = State::starting;
  rec_.hub->open(req, shared_from_this(),
                 [self = shared_from_this(), done = std::move(done)](stream::OpenResult r) {
                   asio::post(self->rec_.loop, [self, r = std::move(r), done]() {
                     if (self->state == State::closed) {
                       if (!r.error) self->rec_.hub->close(r.stream_id);
                       if (done) done(std::nullopt);
                       return;
                     }
                     if (r.error) {
                       self->state = State::retrying;
                       self->error = r.error->message;
                       spdlog::warn("recorder: {} could not open: {} ({}); retrying",
                                    label(self->key), r.error->message, r.error->code);
                       self->schedule_reopen();
                     } else {
                       self->attach(r);
                     }
                     if (done) done(r.error);
                   });
                 });
}

void TrackedStream::attach(const stream::OpenResult& r) {
  stream_id_ = r.stream_id;
  cursor_ = stream::LogCursor(r.log, r.start);
  readers_ = r.readers;
  state = State::recording;
  error.clear();
  spdlog::info("recorder: recording {} (seq after {})", label(key), r.seq_before_start);
  readers_->add(this); // calls on_log_advanced once
}

void TrackedStream::detach() {
  if (readers_) readers_->remove(this);
  readers_.reset();
  cursor_ = {};
  stream_id_ = 0;
}

void TrackedStream::close() {
  flush();
  if (stream_id_ != 0) rec_.hub->close(stream_id_);
  detach();
  retry_timer_.cancel();
  state = State::closed;
}

void TrackedStream::schedule_reopen() {
  retry_timer_.expires_after(rec_.cfg.reopen_delay);
  retry_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->state != State::retrying || self->rec_.stopping) return;
    self->open(nullptr);
  });
}

void TrackedStream::end(stream::EndReason reason, const std::optional<stream::Notice>& why) {
  asio::post(rec_.loop, [self = shared_from_this(), reason, why] {
    if (self->state == State::closed) return;
    self->on_log_advanced(); // what the log got before the end
    self->flush();
    self->detach();
    if (reason == stream::EndReason::shutdown || self->rec_.stopping) {
      self->state = State::closed;
      return;
    }
    self->interrupt(why ? why->message : "the stream was ended");
    self->state = State::retrying;
    self->error = why ? why->message : "the stream was ended";
    spdlog::warn("recorder: {} ended ({}); reopening", label(self->key), self->error);
    self->schedule_reopen();
  });
}

void TrackedStream::interrupt(std::string why) {
  if (!interrupted_) interrupted_ = std::move(why);
}

void TrackedStream::on_log_advanced() {
  if (!readers_ || state != State::recording) return;
  if (rec_.queue.pending() >= rec_.cfg.max_pending_rows) {
    // The writer is far behind (slow or full disk): stop reading. The log
    // moves on; what falls out of it becomes a gap. Look again shortly.
    rec_.set_health(true, "the recorder is " + std::to_string(rec_.queue.pending()) +
                              " ticks behind (the disk is too slow or full); ticks it cannot keep "
                              "are backfilled later");
    retry_timer_.expires_after(std::chrono::milliseconds(50));
    retry_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      if (auto self = weak.lock(); self && !ec) self->on_log_advanced();
    });
    return;
  }
  const auto& log = cursor_.log();
  const auto head = log->head();
  while (cursor_.position() < head) {
    const stream::LogEntry* e = cursor_.get();
    if (!e) {
      const auto tail = log->tail();
      if (cursor_.position() >= tail) break;
      interrupt("the recorder fell behind the stream (" +
                std::to_string(tail - cursor_.position()) + " events no longer held)");
      cursor_.seek(tail);
      continue;
    }
    if (e->is_tick()) on_tick(*e);
    else on_notice(*e);
    cursor_.advance();
    if (rows_.size() >= 4096) flush();
  }
  flush();
}

void TrackedStream::on_notice(const stream::LogEntry& e) {
  if (e.code == "market_closed") {
    // A closed period is no interruption. Its record says when: "<from> <to>".
    std::int64_t from = 0, to = 0;
    const std::string text(e.record);
    if (std::sscanf(text.c_str(), "%" SCNd64 " %" SCNd64, &from, &to) != 2) return;
    closed_ = {from, to};
    if (to > from) {
      if (closed_periods_.empty() || closed_periods_.back().first != from)
        closed_periods_.emplace_back(from, to);
      while (closed_periods_.size() > 32) closed_periods_.pop_front();
    }
    return;
  }
  if (e.code == "market_open") {
    closed_.reset();
    if (interrupted_closed_) interrupt(std::move(*interrupted_closed_));
    interrupted_closed_.reset();
    return;
  }
  if (closed_) {
    // While the market is closed nothing is missed, as long as the stream
    // is re-requested before it opens.
    if (e.code == "reconnected" && (closed_->second == 0 || unix_now() < closed_->second))
      interrupted_closed_.reset();
    else if (interrupts(e.code) && !interrupted_closed_) interrupted_closed_ = std::string(e.code);
    return;
  }
  if (interrupts(e.code)) interrupt(std::string(e.code));
}

void TrackedStream::on_tick(const stream::LogEntry& e) {
  auto fields = stream::read_tick_fields(e.record);
  if (!fields) return;
  if (closed_) { // ticks without market_open (none expected): the period is over
    closed_.reset();
    if (interrupted_closed_) interrupt(std::move(*interrupted_closed_));
    interrupted_closed_.reset();
  }
  const std::int64_t t = stream::tick_time(fields->tick);
  // The ticks of the last second of a gap just closed: count them, and
  // hand the gap to backfill once that second is over.
  if (counting_) {
    if (t == counting_->to) {
      ++counting_->skip_to;
    } else if (t > counting_->to) {
      rec_.enqueue_backfill(std::move(*counting_));
      counting_.reset();
    }
  }
  if (interrupted_) {
    if (last_) {
      if (counting_) { // a gap right after a gap: hand the first over as it is
        rec_.enqueue_backfill(std::move(*counting_));
        counting_.reset();
      }
      auto g = std::make_shared<GapState>();
      g->gap.con_id = key.first;
      g->gap.tick_type = key.second;
      g->gap.after_seq = last_->seq;
      g->gap.from_time = last_->ib_time;
      g->gap.to_time = t;
      g->gap.state = store::Gap::State::open;
      g->gap.reason = *interrupted_;
      g->gap.opened_unix = g->gap.updated_unix = unix_now();
      rec_.push_gap(*g);
      BackfillJob job;
      job.gap = g;
      job.from = last_->ib_time;
      job.to = t;
      job.skip_from = last_->at_time;
      job.skip_to = 1; // this tick
      job.next_sub = last_->sub + 1;
      job.page_start = job.from;
      for (const auto& c : closed_periods_)
        if (c.second > job.from && c.first < job.to) job.closed.push_back(c);
      counting_ = std::move(job);
      spdlog::info("recorder: {} gap after seq {} ({} .. {}): {}", label(key), last_->seq,
                   last_->ib_time, t, *interrupted_);
    }
    interrupted_.reset();
  }
  store::TickRecord row;
  row.con_id = key.first;
  row.tick_type = key.second;
  row.seq = e.seq;
  row.ib_time = t;
  row.recv_us = fields->recv_us;
  row.source = store::Source::live;
  row.tick = std::move(fields->tick);
  rows_.push_back(std::move(row));
  if (last_ && last_->ib_time == t) {
    last_->seq = e.seq;
    last_->sub = 0;
    ++last_->at_time;
  } else {
    last_ = Last{e.seq, 0, t, 1};
  }
}

void TrackedStream::flush() {
  if (rows_.empty()) return;
  counters_->pending += rows_.size();
  rec_.queue.push(rows_);
  rows_.clear();
}

void TrackedStream::poll() {
  if (counting_ && unix_now() > counting_->to + 2) {
    rec_.enqueue_backfill(std::move(*counting_));
    counting_.reset();
  }
}

} // namespace record

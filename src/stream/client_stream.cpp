#include "stream/client_stream.hpp"

#include <algorithm>

namespace stream {

void SseBatch::add_control(std::size_t from) {
  const std::size_t n = control.size() - from;
  if (n == 0) return;
  bytes += n;
  if (!pieces.empty() && !pieces.back().log && pieces.back().offset + pieces.back().size == from) {
    pieces.back().size += n;
    return;
  }
  pieces.push_back({nullptr, from, n});
}

void SseBatch::add_view(std::string_view v) {
  if (v.empty()) return;
  bytes += v.size();
  if (!pieces.empty() && pieces.back().log && pieces.back().log + pieces.back().size == v.data()) {
    pieces.back().size += v.size();
    return;
  }
  pieces.push_back({v.data(), 0, v.size()});
}

void SseBatch::consume(std::size_t n) {
  bytes -= std::min(n, bytes);
  std::size_t i = 0;
  while (i < pieces.size() && n >= pieces[i].size) n -= pieces[i++].size;
  pieces.erase(pieces.begin(), pieces.begin() + static_cast<std::ptrdiff_t>(i));
  if (n > 0 && !pieces.empty()) {
    if (pieces.front().log) pieces.front().log += n;
    else pieces.front().offset += n;
    pieces.front().size -= n;
  }
  if (pieces.empty()) clear();
}

ClientStream::ClientStream(Options options, Encoder& encoder)
    : options_(std::move(options)), encoder_(encoder) {
  options_.window = std::max<std::size_t>(1, options_.window);
}

ClientStream::~ClientStream() { detach(); }

void ClientStream::start(const OpenResult& opened, std::string& out) {
  if (started_) return;
  started_ = true;
  counters_ = opened.counters;
  cursor_ = LogCursor(opened.log, opened.start);
  readers_ = opened.readers;
  live_from_ = opened.live_from;
  last_seq_ = opened.seq_before_start;
  // The gap comes first: a client learns of it before the ticks after it.
  if (opened.lost > 0) {
    const std::string n = std::to_string(opened.lost);
    encoder_.info(out, "ticks_lost",
                  n + " ticks after the resume point are no longer held and were lost",
                  "\"ticks_lost\":" + n);
  } else if (opened.resume_unknown) {
    encoder_.info(out, "resume_unknown",
                  "the resume id (Last-Event-ID) is unknown to this stream, e.g. after a server "
                  "restart: continuing with live ticks only",
                  {});
  }
}

bool ClientStream::history_tick() {
  ++ticks_sent_;
  if (counters_) counters_->add_sent(1);
  if (options_.limit && ticks_sent_ >= static_cast<std::uint64_t>(*options_.limit)) return false;
  return true;
}

std::uint64_t ClientStream::go_live_after(std::uint64_t after_seq) {
  const auto& log = cursor_.log();
  const auto found = log->find_after(after_seq);
  cursor_ = LogCursor(log, found.position);
  live_from_ = std::max(found.position, log->head());
  last_seq_ = after_seq + found.missing;
  return found.missing;
}

void ClientStream::announce_lost(std::string& out, std::uint64_t n) {
  if (n == 0) return;
  const std::string count = std::to_string(n);
  encoder_.info(out, "ticks_lost",
                count + " ticks after the resume point are neither recorded nor held and were lost",
                "\"ticks_lost\":" + count);
}

void ClientStream::attach(LogConsumer* consumer) {
  if (!readers_ || consumer_) return;
  consumer_ = consumer;
  readers_->add(consumer);
}

void ClientStream::detach() {
  if (readers_ && consumer_) readers_->remove(consumer_);
  consumer_ = nullptr;
}

std::uint64_t ClientStream::allowed_start(std::uint64_t head) const {
  const std::uint64_t tail = cursor_.log()->tail();
  // A resume replay is bounded by the log's memory only: the client has not
  // had a chance to read yet.
  if (cursor_.position() < live_from_) return tail;
  const std::uint64_t window_start = head > options_.window ? head - options_.window : 0;
  return std::max(tail, window_start);
}

bool ClientStream::skip_to(std::uint64_t to, Clock::time_point now) {
  cursor_.seek(to);
  const LogEntry* e = cursor_.get();
  if (!e) return false; // dropped meanwhile too: the caller looks again
  // Ticks before the new position that this client never read.
  const std::uint64_t before = e->seq - (e->is_tick() ? 1 : 0);
  const std::uint64_t n = before > last_seq_ ? before - last_seq_ : 0;
  last_seq_ = std::max(last_seq_, before);
  if (n == 0) return true;
  count_drops(n);
  unannounced_ += n;
  if (!behind_since_) behind_since_ = now;
  return true;
}

void ClientStream::announce_loss(std::string& out) {
  if (unannounced_ == 0) return;
  const std::string count = std::to_string(unannounced_);
  unannounced_ = 0;
  encoder_.info(out, "ticks_lost",
                count + " ticks were dropped: the client did not read fast enough",
                "\"ticks_lost\":" + count);
}

void ClientStream::count_drops(std::uint64_t n) {
  dropped_ += n;
  if (counters_) counters_->add_dropped(n);
}

const LogEntry* ClientStream::next(std::uint64_t& head, Clock::time_point now) {
  for (;;) {
    if (cursor_.position() >= head) {
      head = cursor_.log()->head();
      if (cursor_.position() >= head) return nullptr;
    }
    if (const LogEntry* e = cursor_.get()) return e;
    // Fallen behind what the log holds while reading: skip ahead.
    head = cursor_.log()->head();
    if (cursor_.position() >= head) return nullptr;
    skip_to(allowed_start(head), now);
  }
}

std::size_t ClientStream::read(std::string& out, std::size_t budget, Clock::time_point now) {
  if (!started_ || finished_) return 0;
  std::uint64_t head = cursor_.log()->head();
  std::size_t ticks = 0;
  if (cursor_.position() < allowed_start(head)) skip_to(allowed_start(head), now);
  while (out.size() < budget) {
    const LogEntry* e = next(head, now);
    if (!e) break;
    announce_loss(out); // right before the first event after the gap
    last_seq_ = e->seq;
    if (e->is_tick()) {
      if (oldest_received_ns_ == 0 && cursor_.position() >= live_from_)
        oldest_received_ns_ = e->received_ns;
      encoder_.tick(out, *e, cursor_, head);
      cursor_.advance();
      ++ticks;
      ++ticks_sent_;
      if (options_.limit && ticks_sent_ >= static_cast<std::uint64_t>(*options_.limit)) {
        finish(out, "limit_reached");
        break;
      }
    } else {
      // Notices of a resume replay are history: only its ticks are replayed.
      if (cursor_.position() >= live_from_) encoder_.notice(out, *e);
      cursor_.advance();
    }
  }
  if (ticks > 0 && counters_) counters_->add_sent(ticks);
  return ticks;
}

std::size_t ClientStream::read_sse(SseBatch& b, std::size_t budget, Clock::time_point now) {
  if (!started_ || finished_) return 0;
  cursor_.keep_chunks(&b.chunks);
  std::uint64_t head = cursor_.log()->head();
  std::size_t ticks = 0;
  if (cursor_.position() < allowed_start(head)) skip_to(allowed_start(head), now);
  while (b.bytes < budget) {
    const LogEntry* e = next(head, now);
    if (!e) break;
    if (unannounced_ > 0) b.control_event([&](std::string& out) { announce_loss(out); });
    const std::uint64_t from = cursor_.position();
    if (from < live_from_) {
      // A resume replay: its notices are history, only its ticks go.
      last_seq_ = e->seq;
      cursor_.advance();
      if (!e->is_tick()) continue;
      b.add_view(e->sse);
      ++ticks;
      ++ticks_sent_;
    } else {
      // Live: a run of entries of one chunk is one contiguous view.
      std::uint64_t end = cursor_.run_end(head);
      const LogEntry* last = &cursor_.at(end - 1);
      std::uint64_t n = last->seq - last_seq_; // ticks in the run
      if (options_.limit) {
        const auto left = static_cast<std::uint64_t>(*options_.limit) - ticks_sent_;
        if (n > left) {
          // Up to the tick that reaches the limit.
          const std::uint64_t want = last_seq_ + left;
          while (!(last->is_tick() && last->seq == want)) last = &cursor_.at(--end - 1);
          n = left;
        }
      }
      if (oldest_received_ns_ == 0) {
        // The first tick of the run (a notice may lead it).
        for (auto at = from; at < end; ++at) {
          if (const LogEntry& x = cursor_.at(at); x.is_tick()) {
            oldest_received_ns_ = x.received_ns;
            break;
          }
        }
      }
      b.add_view(std::string_view(
          e->sse.data(),
          static_cast<std::size_t>(last->sse.data() + last->sse.size() - e->sse.data())));
      last_seq_ = last->seq;
      cursor_.seek(end);
      ticks += n;
      ticks_sent_ += n;
    }
    if (options_.limit && ticks_sent_ >= static_cast<std::uint64_t>(*options_.limit)) {
      b.control_event([&](std::string& out) { finish(out, "limit_reached"); });
      break;
    }
  }
  cursor_.keep_chunks(nullptr);
  if (ticks > 0 && counters_) counters_->add_sent(ticks);
  return ticks;
}

bool ClientStream::at_head() const {
  return !started_ || finished_ || cursor_.position() >= cursor_.log()->head();
}

void ClientStream::skip_if_behind(Clock::time_point now) {
  if (!started_ || finished_) return;
  const std::uint64_t head = cursor_.log()->head();
  const std::uint64_t allowed = allowed_start(head);
  if (cursor_.position() < allowed) skip_to(allowed, now);
}

void ClientStream::caught_up() { behind_since_.reset(); }

bool ClientStream::slow(Clock::time_point now) const {
  return behind_since_ && now - *behind_since_ >= options_.slow_after;
}

void ClientStream::finish(std::string& out, std::string_view reason) {
  if (finished_) return;
  finished_ = true;
  encoder_.complete(out, reason, ticks_sent_);
}

void ClientStream::fail(std::string& out, std::string_view code, std::string_view message,
                        std::string_view details) {
  if (finished_) return;
  finished_ = true;
  encoder_.error(out, code, message, details);
}

void ClientStream::end_slow(std::string& out) {
  if (finished_) return;
  if (started_) {
    // What it will never read now counts as dropped.
    const std::uint64_t head = cursor_.log()->head();
    if (head > cursor_.position()) {
      cursor_.seek(head - 1);
      if (const LogEntry* e = cursor_.get(); e && e->seq > last_seq_) {
        count_drops(e->seq - last_seq_);
        last_seq_ = e->seq;
      }
    }
  }
  slow_ = true;
  if (counters_) counters_->slow_consumer_end();
  fail(out, "SLOW_CONSUMER",
       "The client did not read fast enough: " + std::to_string(dropped_) +
           " ticks were dropped and the stream is closed",
       "Read the stream continuously, or request a less busy tick type or a limit");
}

} // namespace stream

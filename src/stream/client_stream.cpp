#include "stream/client_stream.hpp"

#include "stream/tick_json.hpp"

namespace stream {
namespace {

std::string_view reason_name(EndReason r) {
  switch (r) {
  case EndReason::stopped: return "stopped";
  case EndReason::shutdown: return "shutdown";
  case EndReason::failed: return "failed";
  }
  return "stopped";
}

std::string code_member(std::string_view code, std::string_view details = {}) {
  std::string out = "\"code\":";
  append_json_string(out, code);
  if (!details.empty()) {
    out += ",\"details\":";
    append_json_string(out, details);
  }
  return out;
}

} // namespace

FrameFormat sse_frame_format() {
  return FrameFormat{
      // The frame is the tick's own bytes and shares the tick's count:
      // one reference per delivery, not two (they are contended: every
      // client thread touches them).
      [](TickEventPtr t) {
        const std::string* bytes = t->sse.get();
        return Frame(std::move(t), bytes);
      },
      [](std::string json) {
        return std::make_shared<const std::string>(sse_frame(std::nullopt, json));
      },
  };
}

ClientStream::ClientStream(Options options, FrameFormat format,
                           std::shared_ptr<ClientCounters> counters)
    : options_(std::move(options)), format_(std::move(format)), counters_(std::move(counters)),
      queue_(options_.queue_capacity, options_.slow_after) {}

void ClientStream::push_control(Frame frame) { queue_.push_control(std::move(frame)); }

void ClientStream::start(const OpenResult& opened) {
  if (started_) return;
  started_ = true;
  if (!counters_) counters_ = opened.counters;
  contract_ = opened.contract;
  stream_key_ = opened.stream_key;
  push_event(info_json("stream started", {}));
  // The gap comes first: a client learns of it before the ticks after it.
  if (opened.lost > 0) {
    const std::string n = std::to_string(opened.lost);
    push_event(info_json(n + " ticks after the resume point are no longer held and were lost",
                         code_member("ticks_lost") + ",\"ticks_lost\":" + n));
  } else if (opened.resume_unknown) {
    push_event(info_json("the resume id (Last-Event-ID) is unknown to this stream, e.g. after "
                         "a server restart: continuing with live ticks only",
                         code_member("resume_unknown")));
  }
  for (const auto& t : opened.replay) {
    if (finished_) break;
    push_tick(t, true);
  }
  auto early = std::move(early_);
  early_.clear();
  for (auto& t : early) on_tick(std::move(t));
}

void ClientStream::on_tick(TickEventPtr tick) {
  if (finished_ || !tick) return;
  if (!started_) {
    early_.push_back(std::move(tick));
    return;
  }
  push_tick(std::move(tick), false);
}

void ClientStream::push_tick(TickEventPtr tick, bool replayed) {
  if (replayed) {
    // The client has not had a chance to read yet: a replay larger than the
    // queue must not count as falling behind, so it is never dropped.
    queue_.push_control(format_.tick(std::move(tick)));
  } else {
    switch (queue_.push(format_.tick(std::move(tick)))) {
    case FrameQueue::Push::queued: ++ticks_queued_; break;
    case FrameQueue::Push::dropped_oldest:
      if (counters_) ++counters_->dropped;
      break;
    case FrameQueue::Push::slow_consumer: {
      if (counters_) ++counters_->dropped;
      slow_ = true;
      finish_with(error_event_json(
          options_.con_id, iso_now(), "SLOW_CONSUMER",
          "The client did not read fast enough: " + std::to_string(queue_.dropped()) +
              " ticks were dropped and the stream is closed",
          "Read the stream continuously, or request a less busy tick type or a limit"));
      return;
    }
    }
    if (!limit_reached()) return;
    finish_with(complete_event_json(options_.con_id, iso_now(), "limit_reached",
                                    ticks_sent_ + ticks_queued_));
    return;
  }
  ++ticks_queued_;
  if (limit_reached())
    finish_with(complete_event_json(options_.con_id, iso_now(), "limit_reached",
                                    ticks_sent_ + ticks_queued_));
}

bool ClientStream::limit_reached() const {
  return options_.limit &&
         ticks_sent_ + ticks_queued_ >= static_cast<std::uint64_t>(*options_.limit);
}

void ClientStream::on_notice(const Notice& n) {
  if (finished_ || !started_) return;
  if (n.kind == Notice::Kind::info) {
    push_event(info_json(n.message, code_member(n.code, n.details)));
  } else {
    push_event(error_event_json(options_.con_id, iso_now(), n.code, n.message, n.details));
  }
}

void ClientStream::on_end(EndReason reason, const std::optional<Notice>& why) {
  if (finished_) return;
  if (reason == EndReason::failed) {
    if (why)
      finish_with(
          error_event_json(options_.con_id, iso_now(), why->code, why->message, why->details));
    else
      finish_with(error_event_json(options_.con_id, iso_now(), "INTERNAL_ERROR",
                                   "The upstream subscription failed", "Retry the request"));
    return;
  }
  finish_with(complete_event_json(options_.con_id, iso_now(), reason_name(reason),
                                  ticks_sent_ + ticks_queued_));
}

void ClientStream::on_timeout() {
  if (finished_) return;
  finish_with(
      complete_event_json(options_.con_id, iso_now(), "timeout", ticks_sent_ + ticks_queued_));
}

void ClientStream::on_idle(Frame keepalive) {
  if (finished_) return;
  queue_.push_control(std::move(keepalive));
}

void ClientStream::take(std::vector<Frame>& out) {
  queue_.take_all(out);
  ticks_sent_ += ticks_queued_;
  if (counters_) counters_->ticks_sent += ticks_queued_;
  ticks_queued_ = 0;
}

void ClientStream::push_event(std::string json) {
  queue_.push_control(format_.event(std::move(json)));
}

void ClientStream::finish_with(std::string json) {
  push_event(std::move(json));
  finished_ = true;
  early_.clear();
}

std::string ClientStream::info_json(std::string_view message, std::string_view extra_json) const {
  return info_event_json(options_.con_id, iso_now(), message, options_.tick_type, stream_key_,
                         contract_, extra_json);
}

} // namespace stream

// stream::Hub on an edge (HubConfig::remote): no TWS connection; each
// stream is asked of the publisher (RemoteUpstream::open), which answers as
// a single node would, and read from it (RemoteUpstream::feed) into the
// stream's log with the publisher's sequence numbers, so that ids are the
// same on every edge. The clients' side (limits, joining, linger, resume
// within the log) is hub.cpp's, unchanged.
//
// A new stream reads the publisher's recent window first (up to
// HubConfig::log entries before its last tick) and is confirmed once it
// caught up: its clients then start at the head, as on a single node, and
// a client that resumes here after another edge finds its resume point.
// Notices keep their place: one that arrives before the tick it follows
// waits for it (at most remote_catch_up).
//
// Everything here runs on the Hub's strand.
#include "stream/hub_impl.hpp"

#include "stream/tick_json.hpp"
#include "stream/wire_formats.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace asio = boost::asio;

namespace stream {

namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// How often an edge says which streams it reads.
constexpr std::chrono::milliseconds kKeepEvery{1000};

} // namespace

void Hub::Impl::remote_start() {
  std::weak_ptr<Impl> weak = shared_from_this();
  cfg_.remote->start([weak](bool up) {
    if (auto self = weak.lock()) asio::post(self->strand_, [self, up] { self->remote_link(up); });
  });
}

void Hub::Impl::remote_link(bool up) {
  if (shutting_down_ || up == remote_up_) return;
  remote_up_ = up;
  if (!up) {
    last_error_ = "the message bus is unreachable";
    spdlog::warn("edge: the link to the publisher is down; clients keep their streams");
    return;
  }
  last_error_.clear();
  if (ever_connected_) ++reconnects_;
  ever_connected_ = true;
  connected_since_ = iso_now();
  spdlog::info("edge: the link to the publisher is up");
  last_keep_ = {};
  remote_watchdog(); // say at once which streams this edge reads
  flush_waiting_tws();
}

void Hub::Impl::remote_open(PendingOpen p) {
  const StreamKeyPair key{p.request.con_id, p.request.tick_type};
  if (auto it = subs_.find(key); it != subs_.end()) {
    join(std::move(p), it->second->details);
    return;
  }
  auto& waiters = remote_opening_[key];
  waiters.push_back(std::move(p));
  if (waiters.size() > 1) return; // already asked
  std::weak_ptr<Impl> weak = shared_from_this();
  cfg_.remote->open(
      key.first, key.second,
      [weak, key](std::optional<RemoteOpened> opened, std::optional<OpenError> error) {
        auto self = weak.lock();
        if (!self) return;
        asio::post(self->strand_, [self, key, opened = std::move(opened),
                                   error = std::move(error)]() mutable {
          auto node = self->remote_opening_.extract(key);
          if (node.empty()) return;
          for (auto& w : node.mapped()) {
            if (!opened) {
              self->answer_error(w, error ? *error
                                          : tws_unavailable("The publisher did not answer.",
                                                            "Retry in a few seconds.", 2));
              continue;
            }
            // The publisher's last sequence: where this edge's
            // log starts, less its window.
            self->last_seq_.try_emplace(key, 0);
            if (!self->subs_.count(key)) {
              const auto window = self->cfg_.log.max_entries;
              self->last_seq_[key] = opened->last_seq > window ? opened->last_seq - window : 0;
            }
            self->remote_catch_up_[key] = opened->last_seq;
            self->join(std::move(w), opened->details);
          }
        });
      });
}

void Hub::Impl::remote_request(const std::shared_ptr<Subscription>& s) {
  const auto epoch = ++s->epoch;
  const auto key = s->key;
  auto target = remote_catch_up_.extract(key);
  s->catch_up_to = target.empty() ? 0 : target.mapped();
  s->catch_up_deadline = Clock::now() + cfg_.remote_catch_up;
  s->last_request = s->last_activity = Clock::now();
  std::weak_ptr<Subscription> weak = s;
  std::weak_ptr<Impl> hub = shared_from_this();
  s->feed.reset();
  s->feed = cfg_.remote->feed(
      key.first, key.second, s->log->last_seq() + 1, [hub, weak, epoch](RemoteEvent ev) {
        auto self = hub.lock();
        if (!self) return;
        asio::post(self->strand_, [self, weak, epoch, ev = std::move(ev)]() mutable {
          if (auto sub = weak.lock()) self->on_remote_event(sub, epoch, std::move(ev));
        });
      });
  s->req_id = 1; // an upstream is open (there is no TWS request id on an edge)
  spdlog::info("edge: reading {} from the publisher after seq {}", s->name(), s->log->last_seq());
  if (s->catch_up_to <= s->log->last_seq()) remote_confirm(s);
}

void Hub::Impl::remote_cancel(Subscription& s) {
  s.feed.reset();
  s.req_id = 0;
  ++s.epoch;
  cfg_.remote->release(s.key.first, s.key.second);
}

void Hub::Impl::remote_confirm(const std::shared_ptr<Subscription>& s) {
  if (s->state == Subscription::State::pending) s->state = Subscription::State::live;
  auto waiting = std::move(s->waiting);
  s->waiting.clear();
  for (auto& w : waiting) remote_attach(s, std::move(w));
}

void Hub::Impl::remote_attach(const std::shared_ptr<Subscription>& s, PendingOpen p) {
  const auto& id = p.request.last_event_id;
  if (id && *id > s->log->last_seq()) {
    // It resumes after a tick this edge has not read yet (it came from an
    // edge ahead of this one): wait for it.
    s->resume_waiting.emplace_back(std::move(p), Clock::now() + cfg_.remote_catch_up);
    return;
  }
  attach(s, std::move(p));
}

void Hub::Impl::on_remote_event(const std::shared_ptr<Subscription>& s, std::uint64_t epoch,
                                RemoteEvent ev) {
  if (s->epoch != epoch) return;
  switch (ev.kind) {
  case RemoteEvent::Kind::tick: remote_tick(*s, ev); break;
  case RemoteEvent::Kind::notice:
    if (ev.seq > s->log->last_seq()) {
      if (s->held_notices.empty()) s->held_since = Clock::now();
      s->held_notices.push_back(std::move(ev));
    } else {
      remote_notice(s, ev);
    }
    return;
  case RemoteEvent::Kind::ended: {
    Notice why{Notice::Kind::error, ev.code, ev.message, ev.details};
    if (ev.code == "stopped") {
      spdlog::info("edge: the publisher stopped {}", s->name());
      const auto key = s->key;
      for (auto& [id, sub] : s->clients) {
        clients_.erase(id);
        sub->end(EndReason::stopped, std::nullopt);
      }
      s->clients.clear();
      if (subs_.count(key)) drop_subscription(key);
    } else {
      fail_subscription(s, why, std::nullopt);
    }
    return;
  }
  }
  // After a tick: the notices that waited for it, the opens that wait for
  // their resume point, the confirmation.
  while (!s->held_notices.empty() && s->held_notices.front().seq <= s->log->last_seq()) {
    auto n = std::move(s->held_notices.front());
    s->held_notices.pop_front();
    remote_notice(s, n);
    s->held_since = Clock::now();
  }
  if (s->state == Subscription::State::pending && s->log->last_seq() >= s->catch_up_to)
    remote_confirm(s);
  if (!s->resume_waiting.empty()) {
    auto waiting = std::move(s->resume_waiting);
    s->resume_waiting.clear();
    for (auto& [p, deadline] : waiting) {
      if (*p.request.last_event_id <= s->log->last_seq()) attach(s, std::move(p));
      else s->resume_waiting.emplace_back(std::move(p), deadline);
    }
  }
}

void Hub::Impl::remote_tick(Subscription& s, const RemoteEvent& ev) {
  if (ev.seq <= s.log->last_seq()) return; // read already
  const auto parts_of = parse_ws_tick_suffix(ev.payload);
  if (!parts_of) {
    spdlog::warn("edge: an unreadable tick {} of {} from the publisher was skipped", ev.seq,
                 s.name());
    return;
  }
  if (ev.seq > s.log->next_seq()) {
    // The publisher's stream no longer holds these (or never got them).
    const auto lost = ev.seq - s.log->next_seq();
    s.log->skip_to(ev.seq);
    if (s.state != Subscription::State::pending)
      notify(s, Notice{Notice::Kind::info, "ticks_lost",
                       std::to_string(lost) + " ticks of " + s.name() +
                           " were not received from the publisher.",
                       ""});
  }
  const auto now = Clock::now();
  const TickParts parts{ev.seq, s.key.first, s.key.second, parts_of->first, parts_of->second};
  sse_scratch_.clear();
  append_sse_tick(sse_scratch_, parts);
  s.log->append(
      EntryKind::tick, sse_scratch_, ev.payload, {}, {},
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
  s.log->publish();
  ++s.ticks;
  ++total_ticks_;
  s.rate.add(unix_now());
  s.last_tick = s.last_activity = now;
}

void Hub::Impl::remote_notice(const std::shared_ptr<Subscription>& s, const RemoteEvent& ev) {
  // The edge's state follows the publisher's notices.
  using State = Subscription::State;
  if (s->state != State::pending && s->state != State::lingering) {
    if (ev.code == "stale") s->state = State::stale;
    else if (ev.code == "TWS_DISCONNECTED") s->state = State::disconnected;
    else if (ev.code == "market_closed") s->state = State::closed;
    else if (ev.code == "resumed" || ev.code == "reconnected" || ev.code == "market_open")
      s->state = State::live;
  }
  const auto at = notify(
      *s,
      Notice{ev.error ? Notice::Kind::error : Notice::Kind::info, ev.code, ev.message, ev.details},
      ev.next_open, ev.period);
  if (ev.code == "market_closed") s->closed_notice_at = at;
}

void Hub::Impl::remote_watchdog() {
  if (shutting_down_) return;
  const auto now = Clock::now();
  for (auto& [key, s] : subs_) {
    // A notice whose tick never came: in its place now.
    if (!s->held_notices.empty() && now - s->held_since >= cfg_.remote_catch_up) {
      auto held = std::move(s->held_notices);
      s->held_notices.clear();
      for (auto& n : held) remote_notice(s, n);
    }
    if (s->state == Subscription::State::pending && s->feed && now >= s->catch_up_deadline) {
      spdlog::warn("edge: {} did not catch up with the publisher (seq {} of {}); going on",
                   s->name(), s->log->last_seq(), s->catch_up_to);
      remote_confirm(s);
    }
    if (!s->resume_waiting.empty()) {
      auto waiting = std::move(s->resume_waiting);
      s->resume_waiting.clear();
      for (auto& [p, deadline] : waiting) {
        if (now >= deadline) attach(s, std::move(p));
        else s->resume_waiting.emplace_back(std::move(p), deadline);
      }
    }
  }
  // The publisher's heartbeat stopped (it died, or lost its TWS link to
  // NATS): clients hear it as TWS lost; a publisher taking over says
  // `reconnected` per stream.
  const bool seen = remote_up_ && cfg_.remote->status().publisher_seen;
  if (remote_publisher_seen_ && !seen) {
    spdlog::warn("edge: no publisher heard on the message bus");
    for (auto& [key, s] : subs_) {
      if (s->state == Subscription::State::live || s->state == Subscription::State::stale)
        s->state = Subscription::State::disconnected;
      notify(*s, Notice{Notice::Kind::error, "TWS_DISCONNECTED",
                        "No publisher is heard on the message bus: ticks of " + s->name() +
                            " pause until a publisher takes over.",
                        "A standby publisher takes over within seconds; the stream goes on."});
    }
  }
  remote_publisher_seen_ = seen;
  if (!remote_up_ || now - last_keep_ < kKeepEvery) return;
  last_keep_ = now;
  std::vector<std::pair<int, tws::TickType>> streams;
  for (const auto& [key, s] : subs_)
    if (s->feed) streams.push_back(key);
  cfg_.remote->keep(std::move(streams));
}

void Hub::Impl::remote_shutdown() {
  for (auto& [key, s] : subs_) s->feed.reset();
  for (auto& [key, waiters] : remote_opening_)
    for (auto& w : waiters)
      answer_error(
          w, tws_unavailable("The server is shutting down.", "Reconnect when it is back.", 0));
  remote_opening_.clear();
  cfg_.remote->stop();
}

} // namespace stream

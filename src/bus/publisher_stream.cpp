// bus::Publisher, its streams: each one a client of the Hub (transport
// "nats") whose log reader publishes every tick to JetStream with the
// stream's sequence number, and every notice to the stream's events subject.
// Runs on the publisher's loop, but end(), which the Hub calls on its strand.
#include "bus/publisher_impl.hpp"

#include "stream/tick_json.hpp"

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <spdlog/spdlog.h>

namespace asio = boost::asio;
namespace json = boost::json;

namespace bus {

namespace {

/// A notice's fields from its WebSocket suffix (`"timestamp":..,"info":{..}}`).
stream::RemoteEvent notice_of(const stream::LogEntry& e) {
  stream::RemoteEvent ev;
  ev.kind = stream::RemoteEvent::Kind::notice;
  ev.seq = e.seq;
  ev.error = e.kind == stream::EntryKind::error;
  ev.code = std::string(e.code);
  ev.period = std::string(e.record);
  json::error_code ec;
  const auto v = json::parse("{" + std::string(e.ws), ec);
  if (ec || !v.is_object()) return ev;
  const auto* body = v.get_object().if_contains(ev.error ? "error" : "info");
  if (!body || !body->is_object()) return ev;
  const auto& o = body->get_object();
  auto text = [&](std::string_view k) {
    const auto* x = o.if_contains(k);
    return x && x->is_string() ? std::string(x->get_string()) : std::string();
  };
  ev.message = text("message");
  ev.details = text("details");
  ev.next_open = text("next_open");
  return ev;
}

constexpr std::chrono::milliseconds kRetry{20};

} // namespace

PublishedStream& PublisherImpl::stream_of(const StreamKey& key) {
  auto& s = streams_[key];
  if (!s) s = std::make_shared<PublishedStream>(*this, key);
  return *s;
}

void PublisherImpl::open_stream(PublishedStream& ps) {
  auto s = ps.shared_from_this();
  s->state = PublishedStream::State::opening;
  const auto label = stream_label(s->key);
  // Its JetStream stream first: the Hub numbers a new stream from its last
  // sequence (seq_base).
  try {
    StreamConfig sc;
    sc.name = stream_name(s->key.first, s->key.second);
    sc.subjects = {ticks_subject(s->key.first, s->key.second)};
    sc.max_age = cfg_.max_age;
    sc.max_bytes = cfg_.max_bytes;
    const auto st = link_->ensure_stream(sc);
    s->js_last = st.last_seq;
    s->js_empty = st.messages == 0;
    std::lock_guard lock(mutex_);
    js_last_[s->key] = st.last_seq;
  } catch (const std::exception& e) {
    spdlog::error("publisher: cannot create the JetStream stream of {}: {}", label, e.what());
    auto replies = std::move(s->replies);
    s->replies.clear();
    for (auto& m : replies)
      link_->respond(
          m, encode_open_error(stream::OpenError{
                 503, "TWS_UNAVAILABLE",
                 "The publisher cannot create the JetStream stream of " + label + ": " + e.what(),
                 "Check nats-server (JetStream enabled, storage), then retry.", 2}));
    s->state = PublishedStream::State::idle;
    return;
  }
  stream::OpenRequest req;
  req.con_id = s->key.first;
  req.tick_type = s->key.second;
  req.transport = "nats";
  req.remote = "edges";
  req.timeout_seconds = 0;
  req.loop = &loop_;
  hub_->open(req, s, [self = shared_from_this(), s](stream::OpenResult r) {
    asio::post(self->loop_,
               [self, s, r = std::move(r)]() mutable { self->opened(s, std::move(r)); });
  });
}

void PublisherImpl::opened(const std::shared_ptr<PublishedStream>& s, stream::OpenResult r) {
  const auto label = stream_label(s->key);
  if (stopping_ || s->state != PublishedStream::State::opening) {
    if (!r.error) hub_->close(r.stream_id);
    return;
  }
  if (r.error) {
    spdlog::warn("publisher: {} could not open: {} {}", label, r.error->code, r.error->message);
    auto replies = std::move(s->replies);
    s->replies.clear();
    for (auto& m : replies) link_->respond(m, encode_open_error(*r.error));
    s->state = PublishedStream::State::idle;
    if (s->edges.empty() && !s->tracked) streams_.erase(s->key);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    js_last_.erase(s->key); // the Hub numbers this stream now
  }
  s->stream_id = r.stream_id;
  s->contract = r.contract;
  s->answer_seq = r.seq_before_start;
  s->epoch = stream::iso_now();
  const auto name = stream_name(s->key.first, s->key.second);
  // JetStream's sequence must be the stream's. An empty JetStream stream
  // behind (new, or the record numbered further) moves on to it; one that
  // holds ticks keeps them: the ticks it lacks are published from the log
  // below (or, no longer held, as `Ibs-Gap` placeholders).
  if (s->js_empty && s->js_last < r.seq_before_start) {
    try {
      link_->purge_to(name, r.seq_before_start + 1);
      s->js_last = r.seq_before_start;
    } catch (const std::exception& e) {
      spdlog::error("publisher: cannot align the JetStream stream of {} with seq {}: {}", label,
                    r.seq_before_start, e.what());
    }
  } else if (s->js_last > r.seq_before_start) {
    spdlog::warn("publisher: JetStream holds {} up to seq {}, the Hub numbers from {}: ticks up "
                 "to {} are not published again",
                 label, s->js_last, r.seq_before_start + 1, s->js_last);
  }
  // From the first tick JetStream lacks that the log still holds (a
  // stream reopened while its upstream lingered: the ticks in between).
  auto start = r.start;
  if (s->js_last < r.seq_before_start)
    start = std::min(start, r.log->find_after(s->js_last).position);
  s->cursor = stream::LogCursor(r.log, start);
  s->readers = r.readers;
  s->state = PublishedStream::State::publishing;
  spdlog::info("publisher: publishing {} to JetStream from seq {}", label, s->js_last + 1);
  if (s->takeover) {
    s->takeover = false;
    stream::RemoteEvent ev;
    ev.kind = stream::RemoteEvent::Kind::notice;
    ev.seq = s->js_last;
    ev.code = "reconnected";
    ev.message = "Publisher " + cfg_.name + " took over: " + label + " re-requested from TWS.";
    link_->publish(events_subject(s->key.first, s->key.second), encode_event(ev));
  }
  answer_replies(*s);
  s->readers->add(s.get()); // calls on_log_advanced once
}

void PublisherImpl::answer_replies(PublishedStream& s) {
  auto replies = std::move(s.replies);
  s.replies.clear();
  // What JetStream holds (the log's own last sequence is the Hub's to read):
  // the edge catches up to it.
  const auto reply = encode_opened(s.js_last, s.contract);
  for (auto& m : replies) link_->respond(m, reply);
}

void PublisherImpl::close_stream(PublishedStream& s) {
  if (s.readers) s.readers->remove(&s);
  s.readers.reset();
  s.cursor = {};
  if (s.retry) s.retry->cancel();
  if (s.stream_id != 0) hub_->close(s.stream_id);
  s.stream_id = 0;
  s.state = PublishedStream::State::idle;
}

void PublishedStream::end(stream::EndReason reason, const std::optional<stream::Notice>& why) {
  asio::post(pub.loop_,
             [self = shared_from_this(), reason, why] { self->pub.ended(self, reason, why); });
}

void PublisherImpl::ended(const std::shared_ptr<PublishedStream>& s, stream::EndReason reason,
                          const std::optional<stream::Notice>& why) {
  if (s->state != PublishedStream::State::publishing) return;
  on_log_advanced_now(*s); // what the log got before the end
  s->stream_id = 0;        // the Hub forgot it
  close_stream(*s);
  streams_.erase(s->key);
  if (reason == stream::EndReason::shutdown) return; // a standby takes over
  stream::RemoteEvent ev;
  ev.kind = stream::RemoteEvent::Kind::ended;
  ev.seq = s->js_last;
  ev.code = reason == stream::EndReason::stopped ? "stopped" : (why ? why->code : "failed");
  if (why) {
    ev.message = why->message;
    ev.details = why->details;
  }
  link_->publish(events_subject(s->key.first, s->key.second), encode_event(ev));
}

void PublishedStream::on_log_advanced() { pub.on_log_advanced_now(*this); }

void PublisherImpl::on_log_advanced_now(PublishedStream& s) {
  if (s.state != PublishedStream::State::publishing || !s.cursor.log()) return;
  if (publish_entries(s)) return;
  // NATS takes no more now (disconnected, too many unacknowledged): later.
  if (!s.retry) s.retry = std::make_shared<asio::steady_timer>(loop_);
  s.retry->expires_after(kRetry);
  s.retry->async_wait([w = s.weak_from_this()](boost::system::error_code ec) {
    if (auto self = w.lock(); self && !ec) self->on_log_advanced();
  });
}

bool PublisherImpl::publish_entries(PublishedStream& s) {
  const auto& log = s.cursor.log();
  const auto head = log->head();
  const auto subject = ticks_subject(s.key.first, s.key.second);
  const Headers headers{{"Ibs-Epoch", s.epoch}};
  std::uint64_t n = 0;
  bool all = true;
  while (s.cursor.position() < head) {
    const stream::LogEntry* e = s.cursor.get();
    if (!e) {
      // Fell out of the log's window while NATS was away: those ticks are
      // not in JetStream (the edges count them lost).
      spdlog::warn("publisher: {} events of {} were not published (NATS was too slow or away)",
                   log->tail() - s.cursor.position(), stream_label(s.key));
      s.cursor.seek(log->tail());
      continue;
    }
    if (e->is_tick()) {
      if (e->seq > s.js_last) {
        // A gap in JetStream's numbering must not shift it: the sequences
        // not published are filled with empty `Ibs-Gap` messages.
        while (s.js_last + 1 < e->seq) {
          const auto seq = s.js_last + 1;
          if (!link_->js_publish(subject, {}, {{"Ibs-Gap", "1"}}, seq - 1,
                                 stream_label(s.key) + "." + std::to_string(seq))) {
            all = false;
            break;
          }
          s.js_last = seq;
        }
        if (!all) break;
        if (!link_->js_publish(subject, e->ws, headers, e->seq - 1,
                               stream_label(s.key) + "." + std::to_string(e->seq))) {
          all = false;
          break;
        }
        s.js_last = e->seq;
        ++n;
      }
    } else {
      link_->publish(events_subject(s.key.first, s.key.second), encode_event(notice_of(*e)));
    }
    s.cursor.advance();
  }
  count_published(n);
  return all;
}

void PublisherImpl::count_published(std::uint64_t n) {
  if (n == 0) return;
  std::lock_guard lock(mutex_);
  published_ += n;
}

} // namespace bus

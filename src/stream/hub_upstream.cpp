// stream::Hub, TWS side: the connection lifecycle (connect, capped
// exponential backoff with jitter, reconnect), upstream subscriptions
// (request, confirm, ticks, errors, resubscription after 1101/1102 and farm
// flaps). The watchdog and trading hours are in hub_watchdog.cpp.
#include "stream/hub_impl.hpp"

#include "stream/tick_fields.hpp"
#include "stream/tick_json.hpp"
#include "stream/wire_formats.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <cmath>

namespace asio = boost::asio;

namespace stream {

namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

/// A TWS connection that lasted less than this ended as a failed attempt.
constexpr milliseconds kStableConnection{5000};

std::int64_t unix_now() {
  return duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// "Market data farm connection is broken:usfarm" -> "usfarm".
std::string farm_of(const std::string& text) {
  const auto colon = text.rfind(':');
  return colon == std::string::npos ? std::string() : text.substr(colon + 1);
}

} // namespace

// ------------------------------------------------------------------ connection

void Hub::Impl::connect() {
  if (shutting_down_ || link_ != Link::idle) return;
  link_ = Link::connecting;
  const auto gen = ++client_generation_;
  std::weak_ptr<Impl> weak = shared_from_this();
  tws::Client::Events ev;
  ev.disconnected = [weak, gen](std::error_code ec, const std::string& detail) {
    if (auto self = weak.lock()) self->on_disconnected(gen, ec, detail);
  };
  ev.notice = [weak, gen](const tws::ErrorMessage& m, const tws::ErrorClass& cls) {
    if (auto self = weak.lock(); self && self->client_generation_ == gen) self->on_notice(m, cls);
  };
  client_ = tws::Client::create(strand_, cfg_.tws, std::move(ev));
  client_->connect([weak, gen](std::error_code ec, const std::string& detail) {
    auto self = weak.lock();
    if (!self || self->client_generation_ != gen) return;
    if (ec) self->on_connect_failed(gen, ec, detail);
    else self->on_connected(gen);
  });
}

void Hub::Impl::on_connected(std::uint64_t generation) {
  if (generation != client_generation_ || shutting_down_) return;
  link_ = Link::connected;
  session_ = client_->session();
  connected_since_ = iso_now();
  if (ever_connected_) ++reconnects_;
  const bool reconnect = ever_connected_;
  ever_connected_ = true;
  connected_at_ = Clock::now();
  last_error_.clear();
  farms_down_.clear();
  connectivity_lost_ = false;
  spdlog::info("TWS connected at {}:{} (server version {}, client id {}){}", session_.host,
               session_.port, session_.server_version, cfg_.tws.client_id,
               reconnect ? " after a reconnect" : "");
  // Every live subscription is re-requested with a fresh request id.
  std::vector<StreamKeyPair> idle;
  for (auto& [key, s] : subs_) {
    if (s->clients.empty() && s->waiting.empty()) {
      idle.push_back(key);
      continue;
    }
    request_upstream(s);
    notify(*s, Notice{Notice::Kind::info, "reconnected",
                      "Reconnected to TWS: " + s->name() + " re-requested.", ""});
  }
  for (const auto& key : idle) drop_subscription(key);
  flush_waiting_tws();
}

std::chrono::milliseconds Hub::Impl::next_backoff(bool id_in_use) {
  // A few quick attempts (a blip, or IB still holding our client id), then
  // capped exponential backoff forever: never spin against TWS.
  const int n = failed_attempts_;
  double base = static_cast<double>(cfg_.backoff_initial.count());
  if (n > cfg_.reconnect_attempts) base *= std::pow(2.0, std::min(20, n - cfg_.reconnect_attempts));
  if (id_in_use) base = std::max(base, 1000.0);
  base = std::min(base, static_cast<double>(cfg_.backoff_max.count()));
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  const double ms =
      std::min(base * jitter(jitter_rng_), static_cast<double>(cfg_.backoff_max.count()));
  return milliseconds(std::max<std::int64_t>(50, static_cast<std::int64_t>(ms)));
}

void Hub::Impl::on_connect_failed(std::uint64_t generation, std::error_code ec,
                                  const std::string& detail) {
  if (generation != client_generation_) return;
  client_.reset();
  link_ = Link::idle;
  last_error_ = detail.empty() ? ec.message() : detail;
  ++failed_attempts_;
  if (shutting_down_) return;
  const bool id_in_use = ec == tws::ClientError::client_id_in_use;
  const auto delay = next_backoff(id_in_use);
  spdlog::warn("TWS connect attempt {} failed: {}; next attempt in {} ms", failed_attempts_,
               last_error_, delay.count());
  schedule_reconnect(delay);
}

void Hub::Impl::schedule_reconnect(std::chrono::milliseconds delay) {
  reconnect_timer_.expires_after(delay);
  reconnect_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!ec && self) self->connect();
  });
}

void Hub::Impl::on_disconnected(std::uint64_t generation, std::error_code ec,
                                const std::string& detail) {
  if (generation != client_generation_ || link_ != Link::connected) return;
  link_ = Link::idle;
  client_.reset();
  last_error_ = detail.empty() ? ec.message() : detail;
  if (shutting_down_) return;
  // A connection that ends soon after its handshake (a peer that breaks the
  // framing or closes at once) counts as a failed attempt: reconnecting
  // quickly every time would spin against it.
  const auto lived = duration_cast<milliseconds>(Clock::now() - connected_at_);
  milliseconds delay{200};
  if (lived < kStableConnection) {
    ++failed_attempts_;
    delay = next_backoff(false);
    spdlog::warn("TWS connection lost {} ms after it was made: {}; next attempt in {} ms "
                 "(attempt {} without a stable connection)",
                 lived.count(), last_error_, delay.count(), failed_attempts_);
  } else {
    failed_attempts_ = 0;
    spdlog::warn("TWS connection lost: {}; reconnecting", last_error_);
  }
  // Contract lookups in flight died with the connection.
  auto lookups = std::move(details_waiting_);
  details_waiting_.clear();
  for (auto& [con_id, waiters] : lookups)
    for (auto& w : waiters)
      answer_error(w, tws_unavailable("The connection to TWS was lost while resolving contract " +
                                          std::to_string(con_id) + ".",
                                      "Retry in a few seconds; the server is reconnecting.", 2));
  std::vector<StreamKeyPair> gone;
  for (auto& [key, s] : subs_) {
    s->req_id = 0;
    ++s->epoch;
    auto waiting = std::move(s->waiting);
    s->waiting.clear();
    for (auto& w : waiting)
      answer_error(
          w, tws_unavailable("The connection to TWS was lost while starting " + s->name() + ".",
                             "Retry in a few seconds; the server is reconnecting.", 2));
    if (s->clients.empty()) {
      gone.push_back(key);
      continue;
    }
    s->state = Subscription::State::disconnected;
    notify(*s, Notice{Notice::Kind::error, "TWS_DISCONNECTED",
                      "Connection to TWS lost (" + last_error_ + "); " + s->name() +
                          " resumes when the server has reconnected.",
                      "Stay connected: the server reconnects and re-requests the stream."});
  }
  for (const auto& key : gone) drop_subscription(key);
  schedule_reconnect(delay);
}

void Hub::Impl::on_notice(const tws::ErrorMessage& m, const tws::ErrorClass& /*cls*/) {
  switch (m.code) {
  case 1100:
    connectivity_lost_ = true;
    for (auto& [key, s] : subs_) {
      if (s->clients.empty()) continue;
      notify(*s, Notice{Notice::Kind::error, "TWS_DISCONNECTED",
                        "TWS lost its connection to IB (TWS 1100): no ticks for " + s->name() +
                            " until it is restored.",
                        "Stay connected: the stream is re-requested when TWS reconnects."});
    }
    break;
  case 1101:
  case 1102:
    connectivity_lost_ = false;
    resubscribe_all(m.code == 1101 ? "connectivity restored, data lost (TWS 1101)"
                                   : "connectivity restored, data maintained (TWS 1102)");
    break;
  case 2103: {
    const auto farm = farm_of(m.text);
    farms_down_.insert(farm);
    for (auto& [key, s] : subs_) {
      if (s->clients.empty()) continue;
      notify(*s, Notice{Notice::Kind::info, "farm_down",
                        "Market data farm " + farm + " is down (TWS 2103): ticks of " + s->name() +
                            " may pause.",
                        ""});
    }
    break;
  }
  case 2104: {
    // Also part of every connect burst: only a farm we saw go down counts.
    const auto farm = farm_of(m.text);
    if (farms_down_.erase(farm) > 0)
      resubscribe_all("market data farm " + farm + " reconnected (TWS 2104)");
    break;
  }
  default: break;
  }
}

// ------------------------------------------------------------------ subscriptions

void Hub::Impl::request_upstream(const std::shared_ptr<Subscription>& s) {
  if (!connected()) return;
  if (remote()) {
    remote_request(s);
    return;
  }
  const auto epoch = ++s->epoch;
  std::weak_ptr<Subscription> weak = s;
  std::weak_ptr<Impl> hub = shared_from_this();
  tws::Client::TickCallbacks cb;
  cb.on_tick = [hub, weak, epoch](const tws::Tick& t) {
    auto self = hub.lock();
    auto sub = weak.lock();
    if (self && sub) self->on_tick(sub, epoch, t);
  };
  cb.on_error = [hub, weak, epoch](const tws::ErrorMessage& m, const tws::ErrorClass& cls) {
    auto self = hub.lock();
    auto sub = weak.lock();
    if (self && sub) self->on_sub_error(sub, epoch, m, cls);
  };
  s->req_id = client_->subscribe_tick_by_tick(s->details.contract, s->key.second, std::move(cb));
  s->last_request = s->last_activity = Clock::now();
  s->last_tick = {};
  spdlog::info("requested tick-by-tick {} (req id {})", s->name(), s->req_id);
  // TWS answers in order: once the current time comes back, an immediate
  // refusal (10190, 10089...) would have arrived first.
  client_->request_current_time([hub, weak, epoch](std::error_code ec, std::int64_t) {
    auto self = hub.lock();
    auto sub = weak.lock();
    if (!self || !sub || ec) return;
    self->confirm(sub, epoch);
  });
}

void Hub::Impl::confirm(const std::shared_ptr<Subscription>& s, std::uint64_t epoch) {
  if (s->epoch != epoch) return;
  if (s->state == Subscription::State::pending || s->state == Subscription::State::disconnected) {
    s->state = Subscription::State::live;
    double silent = 0.0;
    apply_hours(*s, silent); // a stream that opens while the market is closed
  }
  auto waiting = std::move(s->waiting);
  s->waiting.clear();
  for (auto& w : waiting) attach(s, std::move(w), true);
}

void Hub::Impl::cancel_upstream(Subscription& s) {
  if (remote()) {
    remote_cancel(s);
    return;
  }
  if (s.req_id != 0 && connected()) client_->cancel_tick_by_tick(s.req_id);
  s.req_id = 0;
  ++s.epoch;
}

void Hub::Impl::drop_subscription(const StreamKeyPair& key) {
  auto it = subs_.find(key);
  if (it == subs_.end()) return;
  auto s = it->second;
  if (s->linger_timer) s->linger_timer->cancel();
  if (s->rerequest_timer) s->rerequest_timer->cancel();
  cancel_upstream(*s);
  last_seq_[key] = s->log->last_seq();
  subs_.erase(it);
}

void Hub::Impl::on_tick(const std::shared_ptr<Subscription>& s, std::uint64_t epoch,
                        const tws::Tick& t) {
  if (s->epoch != epoch) return;
  const auto now = Clock::now();
  if (s->state == Subscription::State::closed || s->announce_open) market_opened(*s);
  // Encoded once per wire format, appended once: every client reads these
  // bytes through its cursor.
  data_scratch_.clear();
  std::visit([&](const auto& x) { append_tick_json(data_scratch_, x); }, t);
  char iso[32];
  const TickParts parts{s->log->next_seq(), s->key.first, s->key.second, iso_now(iso),
                        data_scratch_};
  sse_scratch_.clear();
  append_sse_tick(sse_scratch_, parts);
  ws_scratch_.clear();
  append_ws_tick_suffix(ws_scratch_, parts);
  // The fields the recorder stores, only for a stream a recorder reads.
  record_scratch_.clear();
  if (s->recorded)
    append_tick_fields(record_scratch_, t,
                       std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count());
  s->log->append(
      EntryKind::tick, sse_scratch_, ws_scratch_, {}, record_scratch_,
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
  s->log->publish();
  ++s->ticks;
  ++total_ticks_;
  s->rate.add(unix_now());
  if (s->last_tick != Clock::time_point{}) {
    const double dt = seconds_between(s->last_tick, now);
    s->mean_interval_s = s->mean_interval_s == 0.0 ? dt : 0.9 * s->mean_interval_s + 0.1 * dt;
  } else if (s->mean_interval_s == 0.0) {
    // First tick ever: until there is an interval, the wait for it is the
    // best guess of the stream's pace (a slow market is not stale).
    s->mean_interval_s = seconds_between(s->last_request, now);
  }
  s->last_tick = s->last_activity = now;
  if (s->state == Subscription::State::stale) {
    s->state = Subscription::State::live;
    notify(*s, Notice{Notice::Kind::info, "resumed", "Ticks of " + s->name() + " resumed.", ""});
  } else if (s->state == Subscription::State::disconnected) {
    s->state = Subscription::State::live;
  }
}

void Hub::Impl::on_sub_error(const std::shared_ptr<Subscription>& s, std::uint64_t epoch,
                             const tws::ErrorMessage& m, const tws::ErrorClass& cls) {
  if (s->epoch != epoch) return;
  const std::string code = "TWS_ERROR_" + std::to_string(m.code);
  if (cls.kind != tws::ErrorKind::request_failed) {
    spdlog::warn("TWS {} on {}: {}", m.code, s->name(), m.text);
    notify(*s, Notice{Notice::Kind::error, code,
                      "TWS " + std::to_string(m.code) + " on " + s->name() + ": " + m.text, ""});
    return;
  }
  spdlog::warn("TWS refused {}: {} {}", s->name(), m.code, m.text);
  s->req_id = 0; // TWS forgot it
  ++s->epoch;
  // A refusal before the first client was answered is an HTTP error: a
  // browser EventSource then stops instead of retrying a hopeless request.
  std::optional<OpenError> open_error;
  const bool permission = m.code == 354 || m.code == 10089 || m.code == 10168 || m.code == 10189;
  if (m.code == 10190)
    open_error = rate_limited("TWS refused a tick-by-tick subscription for " + s->name() +
                                  ": TWS error 10190: " + m.text,
                              "TWS limits simultaneous tick-by-tick subscriptions; retry when "
                              "another stream has ended.",
                              cfg_.retry_after_s);
  else
    open_error = OpenError{permission ? 403 : 502, code,
                           "TWS refused the " + s->name() + " subscription: TWS error " +
                               std::to_string(m.code) + ": " + m.text,
                           permission ? "Check the market data subscriptions of the TWS account."
                                      : "Check the contract and tick type, and the TWS logs.",
                           0};
  fail_subscription(s,
                    Notice{Notice::Kind::error, code,
                           "TWS ended the " + s->name() + " subscription: TWS error " +
                               std::to_string(m.code) + ": " + m.text,
                           m.code == 10089 || m.code == 354 || m.code == 10168
                               ? "Check the market data subscriptions of the TWS account."
                               : ""},
                    std::move(open_error));
}

void Hub::Impl::fail_subscription(const std::shared_ptr<Subscription>& s, const Notice& why,
                                  std::optional<OpenError> open_error) {
  auto waiting = std::move(s->waiting);
  s->waiting.clear();
  auto clients = std::move(s->clients);
  s->clients.clear();
  const auto key = s->key;
  drop_subscription(key);
  // Opens still waiting learn it as an HTTP error.
  for (auto& w : waiting)
    answer_error(w,
                 open_error ? *open_error : OpenError{502, why.code, why.message, why.details, 0});
  for (auto& [id, sub] : clients) {
    clients_.erase(id);
    sub->end(EndReason::failed, why);
  }
}

void Hub::Impl::resubscribe_all(const std::string& why) {
  if (!connected()) return;
  spdlog::info("re-requesting every subscription: {}", why);
  for (auto& [key, s] : subs_) {
    if (s->state == Subscription::State::pending) continue;
    cancel_upstream(*s);
    request_upstream(s);
    if (s->state == Subscription::State::disconnected) s->state = Subscription::State::live;
    notify(*s, Notice{Notice::Kind::info, "reconnected",
                      "TWS " + why + ": " + s->name() + " re-requested.", ""});
  }
}

std::uint64_t Hub::Impl::notify(Subscription& s, const Notice& n, std::string_view next_open,
                                std::string_view period) {
  char iso[32];
  NoticeParts parts;
  parts.error = n.kind == Notice::Kind::error;
  parts.code = n.code;
  parts.message = n.message;
  parts.details = n.details;
  parts.next_open = next_open;
  parts.con_id = s.key.first;
  parts.tick_type = s.key.second;
  parts.stream_key = s.stream_key;
  parts.contract = &s.contract;
  parts.iso_time = iso_now(iso);
  sse_scratch_.clear();
  append_sse_notice(sse_scratch_, parts);
  ws_scratch_.clear();
  append_ws_notice_suffix(ws_scratch_, parts);
  const auto at = s.log->append(parts.error ? EntryKind::error : EntryKind::info, sse_scratch_,
                                ws_scratch_, n.code, period);
  s.log->publish();
  return at;
}

void Hub::Impl::notify_all(const Notice& n) {
  for (auto& [key, s] : subs_) notify(*s, n);
}

} // namespace stream

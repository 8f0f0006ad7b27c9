// stream::Hub, client side: opening, joining, closing and stopping client
// streams, and snapshots. The TWS side is in hub_upstream.cpp.
#include "stream/hub_impl.hpp"

#include "stream/tick_json.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <stdexcept>

namespace asio = boost::asio;

namespace stream {

namespace {

std::string contract_label(int con_id) { return "contract " + std::to_string(con_id); }

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

OpenError rate_limited(std::string message, std::string details, int retry_after_s) {
  return OpenError{429, "RATE_LIMIT_EXCEEDED", std::move(message), std::move(details),
                   retry_after_s};
}

OpenError tws_unavailable(std::string message, std::string details, int retry_after_s) {
  return OpenError{503, "TWS_UNAVAILABLE", std::move(message), std::move(details), retry_after_s};
}

std::string Subscription::name() const {
  std::string n = contract.symbol.empty() ? "contract" : contract.symbol;
  n += " (" + std::to_string(key.first) + ") ";
  n += tws::to_string(key.second);
  return n;
}

namespace {

asio::io_context::executor_type io_executor_of(const Hub::Executor& ex) {
  if (const auto* e = ex.target<asio::io_context::executor_type>()) return *e;
  throw std::logic_error("stream::Hub needs an io_context's executor");
}

} // namespace

Hub::Impl::Impl(Executor ex, HubConfig c)
    : strand_(asio::make_strand(io_executor_of(ex))), cfg_(std::move(c)), reconnect_timer_(strand_),
      watchdog_timer_(strand_) {}

// ------------------------------------------------------------------ public

std::shared_ptr<Hub> Hub::create(Executor ex, HubConfig config) {
  return std::shared_ptr<Hub>(new Hub(std::make_shared<Impl>(std::move(ex), std::move(config))));
}

Hub::Hub(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
Hub::~Hub() = default;

void Hub::start() {
  asio::post(impl_->strand_, [impl = impl_] {
    if (impl->remote()) impl->remote_start();
    else impl->connect();
    impl->arm_watchdog();
  });
}

void Hub::open(OpenRequest request, std::shared_ptr<Subscriber> sub,
               std::function<void(OpenResult)> done) {
  asio::post(impl_->strand_, [impl = impl_, p = PendingOpen{std::move(request), std::move(sub),
                                                            std::move(done)}]() mutable {
    impl->open(std::move(p));
  });
}

void Hub::close(std::uint64_t stream_id) {
  asio::post(impl_->strand_, [impl = impl_, stream_id] { impl->close(stream_id); });
}

void Hub::stop(std::optional<int> con_id, std::function<void(std::vector<StoppedStream>)> done) {
  asio::post(impl_->strand_, [impl = impl_, con_id, done = std::move(done)] {
    auto stopped = impl->stop(con_id, EndReason::stopped);
    if (done) done(std::move(stopped));
  });
}

void Hub::snapshot(std::function<void(HubSnapshot)> done) {
  asio::post(impl_->strand_, [impl = impl_, done = std::move(done)] { done(impl->snapshot()); });
}

void Hub::shutdown(std::function<void()> done) {
  asio::post(impl_->strand_, [impl = impl_, done = std::move(done)] {
    impl->shutting_down_ = true;
    for (auto& [p, timer] : impl->waiting_tws_) {
      timer->cancel();
      impl->answer_error(
          p, tws_unavailable("The server is shutting down.", "Reconnect when it is back.", 0));
    }
    impl->waiting_tws_.clear();
    impl->stop(std::nullopt, EndReason::shutdown);
    impl->reconnect_timer_.cancel();
    impl->watchdog_timer_.cancel();
    if (impl->remote()) impl->remote_shutdown();
    ++impl->client_generation_; // late callbacks of the old client are ignored
    if (impl->client_) impl->client_->disconnect();
    impl->client_.reset();
    impl->link_ = Impl::Link::idle;
    if (done) done();
  });
}

// ------------------------------------------------------------------ open

void Hub::Impl::answer_error(PendingOpen& p, OpenError e) {
  if (pending_opens_ > 0) --pending_opens_;
  OpenResult r;
  r.error = std::move(e);
  auto done = std::move(p.done);
  if (done) done(std::move(r));
}

void Hub::Impl::open(PendingOpen p) {
  if (shutting_down_) {
    OpenResult r;
    r.error = tws_unavailable("The server is shutting down.", "Reconnect when it is back.", 0);
    p.done(std::move(r));
    return;
  }
  if (!p.request.internal && clients_.size() + pending_opens_ >= cfg_.max_clients) {
    OpenResult r;
    r.error = rate_limited("Too many client streams: the server's limit of " +
                               std::to_string(cfg_.max_clients) + " is reached.",
                           "Retry later, or raise IB_STREAM_MAX_CLIENTS.", cfg_.retry_after_s);
    p.done(std::move(r));
    return;
  }
  ++pending_opens_;
  if (connected()) {
    after_connected(std::move(p));
    return;
  }
  // TWS is down: wait for it, but not longer than the connect timeout.
  auto timer = std::make_shared<asio::steady_timer>(strand_, cfg_.connect_wait);
  const auto* key = timer.get();
  waiting_tws_.emplace_back(std::move(p), timer);
  timer->async_wait([self = shared_from_this(), key](boost::system::error_code ec) {
    if (ec) return;
    auto& w = self->waiting_tws_;
    auto it = std::find_if(w.begin(), w.end(), [&](auto& e) { return e.second.get() == key; });
    if (it == w.end()) return;
    auto pending = std::move(it->first);
    w.erase(it);
    if (self->remote()) {
      self->answer_error(
          pending, tws_unavailable("This edge has no link to the publisher (the message bus is "
                                   "unreachable); it keeps retrying.",
                                   "Retry in a few seconds, or use another edge.", 2));
      return;
    }
    self->answer_error(
        pending,
        tws_unavailable(
            "Not connected to TWS / IB Gateway" +
                (self->last_error_.empty() ? std::string() : " (" + self->last_error_ + ")") +
                "; the server keeps retrying.",
            "Check that TWS or IB Gateway is running with the API enabled on one "
            "of the configured ports, then retry.",
            static_cast<int>(std::max<std::int64_t>(
                1, std::chrono::duration_cast<std::chrono::seconds>(self->cfg_.backoff_initial * 4)
                       .count()))));
  });
}

void Hub::Impl::flush_waiting_tws() {
  auto waiting = std::move(waiting_tws_);
  waiting_tws_.clear();
  for (auto& [p, timer] : waiting) {
    timer->cancel();
    after_connected(std::move(p));
  }
}

void Hub::Impl::after_connected(PendingOpen p) {
  if (remote()) {
    remote_open(std::move(p));
    return;
  }
  const int con_id = p.request.con_id;
  if (auto it = contract_cache_.find(con_id); it != contract_cache_.end()) {
    join(std::move(p), it->second);
    return;
  }
  resolve_contract(std::move(p));
}

void Hub::Impl::resolve_contract(PendingOpen p) {
  const int con_id = p.request.con_id;
  auto& waiters = details_waiting_[con_id];
  waiters.push_back(std::move(p));
  if (waiters.size() > 1) return; // a lookup is already under way
  client_->request_contract_details(
      con_id, [self = shared_from_this(), con_id,
               gen = client_generation_](std::error_code ec, const tws::ErrorMessage* err,
                                         std::vector<tws::ContractDetails> details) {
        // A lookup of a connection that is gone was answered at its loss.
        if (gen != self->client_generation_) return;
        auto node = self->details_waiting_.extract(con_id);
        if (node.empty()) return;
        auto waiters = std::move(node.mapped());
        if (!ec && !details.empty()) {
          auto& d = self->contract_cache_[con_id] = std::move(details.front());
          for (auto& w : waiters) self->join(std::move(w), d);
          return;
        }
        OpenError e;
        if ((ec == tws::ClientError::request_failed && err && err->code == 200) ||
            (!ec && details.empty())) {
          e = OpenError{404, "CONTRACT_NOT_FOUND",
                        "Could not find contract with ID " + std::to_string(con_id) +
                            (err ? " (TWS error 200: " + err->text + ")" : std::string()),
                        "Verify the contract ID (IB conId), e.g. 265598 for AAPL.", 0};
        } else if (ec == tws::ClientError::request_failed && err) {
          e = OpenError{500, "INTERNAL_ERROR",
                        "TWS refused the contract details request for " + contract_label(con_id) +
                            ": TWS error " + std::to_string(err->code) + ": " + err->text,
                        "Check the contract ID and the TWS logs.", 0};
        } else {
          e = tws_unavailable("TWS did not deliver the contract details of " +
                                  contract_label(con_id) + ": " + ec.message(),
                              "Retry in a few seconds.", 2);
        }
        for (auto& w : waiters) self->answer_error(w, e);
      });
}

void Hub::Impl::join(PendingOpen p, const tws::ContractDetails& d) {
  if (shutting_down_) {
    answer_error(p,
                 tws_unavailable("The server is shutting down.", "Reconnect when it is back.", 0));
    return;
  }
  const StreamKeyPair key{p.request.con_id, p.request.tick_type};
  if (auto it = subs_.find(key); it != subs_.end()) {
    auto& s = it->second;
    if (p.request.internal) s->recorded = true;
    if (s->state == Subscription::State::pending) s->waiting.push_back(std::move(p));
    else if (remote()) remote_attach(s, std::move(p));
    else attach(s, std::move(p));
    return;
  }
  if (subs_.size() >= cfg_.max_streams) {
    answer_error(p,
                 rate_limited("Too many upstream subscriptions: the limit of " +
                                  std::to_string(cfg_.max_streams) +
                                  " (contract, tick type) streams is reached; " + "cannot start " +
                                  std::string(tws::to_string(key.second)) + " for " +
                                  contract_label(key.first) + ".",
                              "Retry later, or raise IB_STREAM_MAX_STREAMS.", cfg_.retry_after_s));
    return;
  }
  auto [seq_it, fresh] = last_seq_.try_emplace(key, 0);
  if (fresh && cfg_.seq_base_hint) seq_it->second = cfg_.seq_base_hint(key.first, key.second);
  const auto seq_base = seq_it->second;
  auto s = std::make_shared<Subscription>(key, d, cfg_.log, seq_base);
  s->started_iso = iso_now();
  s->started_unix = unix_now();
  s->recorded = p.request.internal;
  s->waiting.push_back(std::move(p));
  subs_[key] = s;
  request_upstream(s);
}

void Hub::Impl::attach(const std::shared_ptr<Subscription>& s, PendingOpen p, bool from_start) {
  if (pending_opens_ > 0) --pending_opens_;
  if (s->linger_timer) {
    s->linger_timer->cancel();
    s->linger_timer.reset();
  }
  if (s->state == Subscription::State::lingering) s->state = Subscription::State::live;
  OpenResult r;
  r.stream_id = next_stream_id_++;
  r.contract = s->contract;
  r.stream_key = s->stream_key;
  r.counters = std::make_shared<ClientCounters>();
  if (!p.request.internal) r.counters->stream = s->totals;
  r.log = s->log;
  if (p.request.loop) r.readers = s->log->readers(*p.request.loop);
  const std::uint64_t head = s->log->head();
  r.live_from = head;
  if (p.request.last_event_id) {
    const auto resume = s->log->resume_after(*p.request.last_event_id);
    r.start = resume.position;
    r.seq_before_start = resume.seq_before;
    r.lost = resume.lost;
    r.resume_unknown = resume.unknown;
  } else if (from_start) {
    r.start = r.live_from = s->log->tail();
    r.seq_before_start = s->seq_base;
  } else if (s->state == Subscription::State::closed && s->closed_notice_at &&
             *s->closed_notice_at >= s->log->tail()) {
    // The market is closed (no tick since the notice, else the state would
    // be live): a client that joins now learns it from the market_closed
    // notice and what followed it.
    r.start = r.live_from = *s->closed_notice_at;
    r.seq_before_start = s->log->last_seq();
  } else {
    r.start = head;
    r.seq_before_start = s->log->last_seq();
  }
  ClientEntry e{p.request.internal, p.sub, s->key, {}, r.counters};
  if (p.request.internal) {
    ++s->internal_clients;
    s->log->raise_limits(cfg_.tracked_log);
  }
  e.info.id = r.stream_id;
  e.info.transport = p.request.transport;
  e.info.remote = p.request.remote;
  e.info.con_id = s->key.first;
  e.info.tick_type = std::string(tws::to_string(s->key.second));
  e.info.limit = p.request.limit;
  e.info.timeout_seconds = p.request.timeout_seconds;
  e.info.started = iso_now();
  clients_.emplace(r.stream_id, std::move(e));
  s->clients.emplace_back(r.stream_id, p.sub);
  spdlog::debug("client stream {} joined {} ({} clients)", r.stream_id, s->name(),
                s->clients.size());
  p.done(std::move(r));
}

// ------------------------------------------------------------------ close / stop

void Hub::Impl::close(std::uint64_t stream_id) {
  auto it = clients_.find(stream_id);
  if (it == clients_.end()) return;
  const auto key = it->second.key;
  const bool internal = it->second.internal;
  clients_.erase(it);
  auto sit = subs_.find(key);
  if (sit == subs_.end()) return;
  auto& s = sit->second;
  std::erase_if(s->clients, [&](const auto& c) { return c.first == stream_id; });
  if (internal && s->internal_clients > 0) --s->internal_clients;
  maybe_linger(s);
}

void Hub::Impl::maybe_linger(const std::shared_ptr<Subscription>& s) {
  if (!s->clients.empty() || !s->waiting.empty() || s->linger_timer) return;
  s->state = Subscription::State::lingering;
  s->linger_timer = std::make_shared<asio::steady_timer>(strand_, cfg_.linger);
  s->linger_timer->async_wait([self = shared_from_this(), weak = std::weak_ptr<Subscription>(s)](
                                  boost::system::error_code ec) {
    auto s = weak.lock();
    if (ec || !s || !s->clients.empty() || !s->waiting.empty()) return;
    spdlog::info("no client left on {}: cancelling the upstream subscription", s->name());
    self->drop_subscription(s->key);
  });
}

std::vector<StoppedStream> Hub::Impl::stop(std::optional<int> con_id, EndReason reason) {
  std::vector<StoppedStream> stopped;
  std::vector<StreamKeyPair> keys;
  for (const auto& [key, s] : subs_)
    if (!con_id || key.first == *con_id) keys.push_back(key);
  for (const auto& key : keys) {
    auto s = subs_.at(key);
    // A tracked stream's recorder stays (DELETE /tracked ends it) unless the
    // server shuts down; so does its upstream.
    const bool keep_recorders = reason != EndReason::shutdown && s->internal_clients > 0;
    std::vector<std::pair<std::uint64_t, std::shared_ptr<Subscriber>>> ended, kept;
    for (auto& c : s->clients) {
      auto it = clients_.find(c.first);
      const bool internal = it != clients_.end() && it->second.internal;
      (keep_recorders && internal ? kept : ended).push_back(std::move(c));
    }
    s->clients = std::move(kept);
    if (keep_recorders && ended.empty()) continue;
    stopped.push_back({key.first, std::string(tws::to_string(key.second)),
                       ended.size() - (keep_recorders ? 0 : s->internal_clients)});
    for (auto& [id, sub] : ended) {
      clients_.erase(id);
      sub->end(reason, std::nullopt);
    }
    if (keep_recorders) continue;
    s->internal_clients = 0;
    auto waiting = std::move(s->waiting);
    s->waiting.clear();
    for (auto& w : waiting)
      answer_error(w, tws_unavailable("The stream was stopped while it was starting.",
                                      "Retry the request.", 1));
    drop_subscription(key);
  }
  return stopped;
}

// ------------------------------------------------------------------ snapshot

HubSnapshot Hub::Impl::snapshot() const {
  HubSnapshot snap;
  snap.tws.connected = connected();
  snap.tws.host = cfg_.tws.host;
  snap.tws.port = snap.tws.connected ? session_.port : 0;
  snap.tws.client_id = cfg_.tws.client_id;
  snap.tws.server_version = snap.tws.connected ? session_.server_version : 0;
  snap.tws.connected_since = snap.tws.connected ? connected_since_ : std::string();
  snap.tws.reconnects = reconnects_;
  snap.tws.last_error = last_error_;
  if (remote()) {
    // An edge: TWS as the publisher last said, through the bus.
    const auto st = cfg_.remote->status();
    snap.tws.connected = remote_up_ && st.publisher_seen && st.tws_connected;
    snap.tws.host = st.tws_host;
    snap.tws.port = snap.tws.connected ? st.tws_port : 0;
    snap.tws.client_id = st.tws_client_id;
    snap.tws.server_version = snap.tws.connected ? st.tws_server_version : 0;
    snap.tws.connected_since = snap.tws.connected ? st.tws_connected_since : std::string();
    if (!remote_up_) snap.tws.last_error = "the message bus is unreachable: " + st.bus_error;
    else if (!st.publisher_seen) snap.tws.last_error = "no publisher is heard on the message bus";
    snap.remote = st;
  }
  const auto now = unix_now();
  for (const auto& [key, s] : subs_) {
    HubSnapshot::Upstream u;
    u.con_id = key.first;
    u.tick_type = std::string(tws::to_string(key.second));
    u.started = s->started_iso;
    u.ticks = s->ticks;
    u.rate = s->rate.per_second(now, s->started_unix);
    u.clients = s->clients.size() - s->internal_clients;
    u.tracked = s->internal_clients > 0;
    u.req_id = s->req_id;
    u.ticks_sent = s->totals->ticks_sent.load(std::memory_order_relaxed);
    u.dropped = s->totals->dropped.load(std::memory_order_relaxed);
    u.slow_consumer_ends = s->totals->slow_consumer_ends.load(std::memory_order_relaxed);
    switch (s->state) {
    case Subscription::State::pending: u.state = "starting"; break;
    case Subscription::State::live: u.state = "live"; break;
    case Subscription::State::stale: u.state = "stale"; break;
    case Subscription::State::disconnected: u.state = "disconnected"; break;
    case Subscription::State::lingering: u.state = "lingering"; break;
    case Subscription::State::closed: u.state = "closed"; break;
    }
    snap.upstreams.push_back(std::move(u));
  }
  for (const auto& [id, c] : clients_) {
    if (c.internal) continue;
    auto info = c.info;
    info.ticks_sent = c.counters->ticks_sent.load(std::memory_order_relaxed);
    info.dropped = c.counters->dropped.load(std::memory_order_relaxed);
    snap.clients.push_back(std::move(info));
  }
  snap.max_streams = cfg_.max_streams;
  snap.max_clients = cfg_.max_clients;
  snap.total_ticks = total_ticks_;
  snap.shutting_down = shutting_down_;
  return snap;
}

} // namespace stream

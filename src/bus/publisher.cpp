// bus::Publisher: leadership, control requests and the heartbeat. The
// streams it publishes (one log reader each) are in publisher_stream.cpp.
#include "bus/publisher_impl.hpp"

#include "bus/messages.hpp"
#include "tws/error_codes.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace asio = boost::asio;

namespace bus {

std::string stream_name(int con_id, tws::TickType type) {
  return "IBS_" + std::to_string(con_id) + "_" + std::string(tws::to_string(type));
}
std::string ticks_subject(int con_id, tws::TickType type) {
  return "ibs.ticks." + std::to_string(con_id) + "." + std::string(tws::to_string(type));
}
std::string events_subject(int con_id, tws::TickType type) {
  return "ibs.events." + std::to_string(con_id) + "." + std::string(tws::to_string(type));
}

std::shared_ptr<Publisher> Publisher::create(PublisherConfig config) {
  auto p = std::make_shared<PublisherImpl>(std::move(config));
  p->connect();
  return p;
}

PublisherImpl::PublisherImpl(PublisherConfig c)
    : cfg_(std::move(c)), work_(asio::make_work_guard(loop_)), status_timer_(loop_) {}

PublisherImpl::~PublisherImpl() { stop(); }

void PublisherImpl::connect() {
  std::weak_ptr<PublisherImpl> weak = shared_from_this();
  auto options = cfg_.link;
  if (options.name.empty()) options.name = "ib-stream publisher " + cfg_.name;
  link_ = Link::connect(options, [weak](LinkState s, std::string why) {
    auto self = weak.lock();
    if (!self) return;
    spdlog::log(s == LinkState::connected ? spdlog::level::info : spdlog::level::warn,
                "publisher: NATS {}{}",
                s == LinkState::connected ? "connected"
                                          : (s == LinkState::closed ? "closed" : "disconnected"),
                why.empty() ? "" : ": " + why);
  });
  link_->on_publish_failure([weak](const PublishFailure& f) {
    if (auto self = weak.lock()) self->on_publish_failure(f);
  });
  thread_ = std::thread([this] { loop_.run(); });
}

void PublisherImpl::start(std::shared_ptr<stream::Hub> hub, std::function<void()> on_leader,
                          std::function<void()> on_lost) {
  hub_ = std::move(hub);
  on_leader_ = std::move(on_leader);
  on_lost_ = std::move(on_lost);
  lease_thread_ = std::thread([this] { lease_loop(); });
}

// ------------------------------------------------------------------ leadership

void PublisherImpl::lease_loop() {
  std::unique_ptr<Lease> lease;
  const auto every = std::max(cfg_.lease_ttl / 3, std::chrono::milliseconds(100));
  auto last_renewed = std::chrono::steady_clock::now();
  bool held = false;
  while (!stopping_.load()) {
    try {
      if (!lease) lease = std::make_unique<Lease>(link_, "ibs_publisher", "leader", cfg_.lease_ttl);
      if (!held) {
        if (lease->try_acquire(cfg_.name)) {
          held = true;
          last_renewed = std::chrono::steady_clock::now();
          spdlog::info("publisher {}: holds the lease: leader", cfg_.name);
          asio::post(loop_, [self = shared_from_this()] { self->become_leader(); });
        } else {
          const auto who = lease->holder();
          std::lock_guard lock(mutex_);
          leader_name_ = who;
        }
      } else if (lease->renew()) {
        last_renewed = std::chrono::steady_clock::now();
      } else {
        held = false;
        lose("another publisher holds the lease now");
      }
    } catch (const std::exception& e) {
      if (held && std::chrono::steady_clock::now() - last_renewed >= cfg_.lease_ttl) {
        held = false;
        lose(std::string("the lease could not be renewed within its ttl: ") + e.what());
      }
    }
    std::unique_lock lock(mutex_);
    stop_cv_.wait_for(lock, every, [this] { return stopping_.load(); });
  }
  if (lease && held) {
    try {
      lease->release();
    } catch (const std::exception& e) {
      spdlog::warn("publisher {}: could not release the lease: {}", cfg_.name, e.what());
    }
  }
}

void PublisherImpl::lose(const std::string& why) {
  spdlog::error("publisher {}: lost the lease ({}): stopping so that the standby leads", cfg_.name,
                why);
  {
    std::lock_guard lock(mutex_);
    leader_ = false;
  }
  if (on_lost_) asio::post(loop_, on_lost_);
}

void PublisherImpl::become_leader() {
  if (stopping_) return;
  {
    std::lock_guard lock(mutex_);
    leader_ = true;
    leader_name_ = cfg_.name;
  }
  std::weak_ptr<PublisherImpl> weak = shared_from_this();
  auto on_loop = [weak](void (PublisherImpl::*handler)(Message &&)) {
    return [weak, handler](Message&& m) {
      if (auto self = weak.lock())
        asio::post(self->loop_, [self, handler, m = std::move(m)]() mutable {
          ((*self).*handler)(std::move(m));
        });
    };
  };
  subs_.push_back(link_->subscribe("ibs.ctl.open", on_loop(&PublisherImpl::on_open)));
  subs_.push_back(link_->subscribe("ibs.ctl.keep", on_loop(&PublisherImpl::on_keep)));
  subs_.push_back(link_->subscribe("ibs.ctl.release", on_loop(&PublisherImpl::on_release)));
  // Contract lookups go straight to the Hub (its TWS connection).
  subs_.push_back(link_->subscribe("ibs.ctl.details", [weak](Message&& m) {
    auto self = weak.lock();
    if (!self) return;
    const auto query = parse_details_request(m.data);
    if (!query) {
      if (auto l = self->link_now())
        l->respond(m, encode_details_reply(make_error_code(tws::ClientError::request_failed),
                                           nullptr, {}));
      return;
    }
    self->hub_->contract_details(
        *query, [self, m = std::move(m)](std::error_code ec, const tws::ErrorMessage* e,
                                         std::vector<tws::ContractDetails> d) {
          if (auto l = self->link_now()) l->respond(m, encode_details_reply(ec, e, d));
        });
  }));
  subs_.push_back(link_->subscribe("ibs.ctl.symbols", [weak](Message&& m) {
    auto self = weak.lock();
    if (!self) return;
    auto pattern = parse_symbols_request(m.data);
    if (!pattern) {
      if (auto l = self->link_now())
        l->respond(m, encode_symbols_reply(make_error_code(tws::ClientError::request_failed),
                                           nullptr, {}));
      return;
    }
    self->hub_->matching_symbols(std::move(*pattern),
                                 [self, m = std::move(m)](std::error_code ec,
                                                          const tws::ErrorMessage* e,
                                                          std::vector<tws::ContractDescription> d) {
                                   if (auto l = self->link_now())
                                     l->respond(m, encode_symbols_reply(ec, e, d));
                                 });
  }));
  // History for the edges, from this publisher's record.
  for (const bool first : {true, false})
    subs_.push_back(
        link_->subscribe(first ? "ibs.ctl.http" : "ibs.ctl.http.next", [weak, first](Message&& m) {
          if (auto self = weak.lock()) self->on_forward(std::move(m), first);
        }));
  if (on_leader_) on_leader_();
  arm_status();
}

// ------------------------------------------------------------------ control

void PublisherImpl::on_open(Message&& m) {
  auto parsed = parse_open_request(m.data);
  if (auto* why = std::get_if<std::string>(&parsed)) {
    link_->respond(m, encode_open_error(stream::OpenError{
                          400, "INVALID_PARAMETER", "Malformed open request: " + *why,
                          "The edge and the publisher must be the same version.", 0}));
    return;
  }
  const auto& req = std::get<OpenRequestMsg>(parsed);
  const StreamKey key{req.con_id, req.tick_type};
  auto& s = stream_of(key);
  if (!req.edge.empty()) s.edges[req.edge] = Clock::now() + cfg_.keep_timeout;
  s.replies.push_back(std::move(m));
  if (s.state == PublishedStream::State::publishing) answer_replies(s);
  else if (s.state == PublishedStream::State::idle) open_stream(s);
}

void PublisherImpl::on_keep(Message&& m) {
  const auto keep = parse_keep(m.data);
  if (!keep) {
    spdlog::warn("publisher: a malformed keep message was ignored");
    return;
  }
  for (const auto& key : keep->streams) {
    auto& s = stream_of(key);
    s.edges[keep->edge] = Clock::now() + cfg_.keep_timeout;
    if (s.state == PublishedStream::State::idle) {
      // An edge reads a stream this publisher does not run: it took over.
      s.takeover = true;
      open_stream(s);
    }
  }
}

void PublisherImpl::on_release(Message&& m) {
  const auto keep = parse_keep(m.data);
  if (!keep) return;
  for (const auto& key : keep->streams)
    if (auto it = streams_.find(key); it != streams_.end()) it->second->edges.erase(keep->edge);
}

// ------------------------------------------------------------------ heartbeat

void PublisherImpl::arm_status() {
  status_timer_.expires_after(std::chrono::seconds(1));
  status_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = std::static_pointer_cast<PublisherImpl>(weak.lock());
    if (ec || !self || self->stopping_) return;
    self->heartbeat();
    self->arm_status();
  });
}

void PublisherImpl::heartbeat() {
  if (!leader()) return;
  hub_->snapshot([weak = weak_from_this()](stream::HubSnapshot snap) {
    auto self = std::static_pointer_cast<PublisherImpl>(weak.lock());
    if (!self) return;
    asio::post(self->loop_, [self, snap = std::move(snap)] {
      if (self->stopping_ || !self->leader()) return;
      self->link_->publish("ibs.status", encode_status(self->cfg_.name, snap.tws));
      // Tracked streams are published too (with or without edges).
      for (const auto& u : snap.upstreams) {
        const auto type = tws::parse_tick_type(u.tick_type);
        if (!u.tracked || !type) continue;
        auto& s = self->stream_of({u.con_id, *type});
        s.tracked = true;
        if (s.state == PublishedStream::State::idle) self->open_stream(s);
      }
      self->expire_edges(snap);
    });
  });
}

void PublisherImpl::expire_edges(const stream::HubSnapshot& snap) {
  const auto now = Clock::now();
  std::vector<StreamKey> idle;
  for (auto& [key, s] : streams_) {
    std::erase_if(s->edges, [&](const auto& e) { return e.second < now; });
    bool tracked = false;
    for (const auto& u : snap.upstreams)
      if (u.con_id == key.first && u.tick_type == tws::to_string(key.second)) tracked = u.tracked;
    s->tracked = tracked;
    if (s->edges.empty() && !s->tracked && s->replies.empty() &&
        s->state == PublishedStream::State::publishing)
      idle.push_back(key);
  }
  for (const auto& key : idle) {
    spdlog::info("publisher: no edge reads {} any more: closing it", stream_label(key));
    close_stream(*streams_.at(key));
    streams_.erase(key);
  }
}

// ------------------------------------------------------------------ status

std::uint64_t PublisherImpl::seq_base(int con_id, tws::TickType type) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = js_last_.find({con_id, type}); it != js_last_.end()) return it->second;
  }
  // A stream the Hub opened by itself (a tracked one at start): ask.
  const auto link = link_now();
  if (!link) return 0;
  try {
    const auto st = link->stream_state(stream_name(con_id, type));
    return st ? st->last_seq : 0;
  } catch (const std::exception& e) {
    spdlog::warn("publisher: JetStream's last sequence of {} is unknown ({}); numbering from the "
                 "record",
                 stream_label({con_id, type}), e.what());
    return 0;
  }
}

PublisherStatus PublisherImpl::status() const {
  PublisherStatus s;
  const auto link = link_now();
  s.bus_connected = link && link->connected();
  s.bus_text = link ? link->status_text() : std::string("stopped");
  std::lock_guard lock(mutex_);
  s.leader = leader_;
  s.leader_name = leader_name_;
  s.published = published_;
  s.publish_failures = publish_failures_;
  s.last_failure = last_failure_;
  return s;
}

bool PublisherImpl::leader() const {
  std::lock_guard lock(mutex_);
  return leader_;
}

void PublisherImpl::on_publish_failure(const PublishFailure& f) {
  std::lock_guard lock(mutex_);
  ++publish_failures_;
  last_failure_ = f.subject + " (" + f.msg_id + "): " + f.error;
  if (publish_failures_ <= 10 || publish_failures_ % 1000 == 0)
    spdlog::error("publisher: JetStream refused {} ({} so far)", last_failure_, publish_failures_);
}

void PublisherImpl::stop() {
  if (stopping_.exchange(true)) return;
  stop_cv_.notify_all();
  if (lease_thread_.joinable()) lease_thread_.join();
  asio::post(loop_, [this] {
    status_timer_.cancel();
    subs_.clear();
    for (auto& [key, s] : streams_) close_stream(*s);
    streams_.clear();
  });
  work_.reset();
  if (thread_.joinable()) thread_.join();
  // What is on its way to JetStream gets there before the link closes.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (link_ && link_->connected() && link_->pending_publishes() > 0 &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (link_) link_->close();
  close_transfers();
  hub_.reset(); // the Hub is done with (and its seq_base_hint only refers back weakly)
  std::lock_guard lock(mutex_);
  link_.reset(); // the connection goes (release_library can then join its threads)
}

std::shared_ptr<Link> PublisherImpl::link_now() const {
  std::lock_guard lock(mutex_);
  return link_;
}

} // namespace bus

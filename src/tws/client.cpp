#include "tws/client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <map>

namespace tws {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {
constexpr std::size_t kReadChunk = std::size_t{64} * 1024;
}

struct Client::Impl : std::enable_shared_from_this<Impl> {
  enum class Phase { idle, connecting, handshaking, starting, ready, closing, closed };

  struct Outgoing {
    std::string bytes;
    bool paced;
  };
  struct PendingDetails {
    DetailsHandler done;
    std::vector<ContractDetails> details;
    std::shared_ptr<asio::steady_timer> timer;
  };

  Impl(Executor ex, ClientConfig cfg, Events ev)
      : ex_(std::move(ex)), cfg_(std::move(cfg)), events_(std::move(ev)), resolver_(ex_),
        socket_(ex_), connect_timer_(ex_), keepalive_timer_(ex_), pace_timer_(ex_),
        close_timer_(ex_) {
    tokens_ = static_cast<double>(std::max(1, cfg_.max_messages_per_second));
    last_refill_ = Clock::now();
  }

  // ------------------------------------------------------------ state
  Executor ex_;
  ClientConfig cfg_;
  Events events_;
  tcp::resolver resolver_;
  tcp::socket socket_;
  asio::steady_timer connect_timer_;
  asio::steady_timer keepalive_timer_;
  asio::steady_timer pace_timer_;
  asio::steady_timer close_timer_;
  Phase phase_ = Phase::idle;
  std::uint64_t gen_ = 0; // bumps per socket; stale handlers compare and bail
  FrameReader reader_;
  SessionInfo info_;
  bool have_id_ = false;
  bool have_accounts_ = false;

  // connect attempt
  std::size_t port_index_ = 0;
  std::string attempts_;
  std::error_code last_error_;
  ConnectHandler connect_done_;

  // writes
  std::deque<Outgoing> outbox_;
  std::vector<std::string> in_flight_;
  bool writing_ = false;
  bool pace_armed_ = false;
  double tokens_;
  Clock::time_point last_refill_;

  // requests
  int next_req_id_ = 1;
  std::map<int, PendingDetails> details_;
  std::map<int, std::shared_ptr<TickCallbacks>> subs_;
  std::deque<TimeHandler> time_requests_;

  // liveness
  Clock::time_point last_rx_;
  Clock::time_point keepalive_sent_;
  bool keepalive_outstanding_ = false;

  // ------------------------------------------------------------ connect
  void connect(ConnectHandler done) {
    if (phase_ != Phase::idle && phase_ != Phase::closed) {
      asio::post(ex_, [done = std::move(done)] {
        done(make_error_code(ClientError::connect_failed), "connect() while already connected");
      });
      return;
    }
    connect_done_ = std::move(done);
    attempts_.clear();
    last_error_ = make_error_code(ClientError::connect_failed);
    if (cfg_.ports.empty()) {
      finish_connect(make_error_code(ClientError::connect_failed), "no ports to try");
      return;
    }
    try_port(0);
  }

  void try_port(std::size_t i) {
    port_index_ = i;
    if (i >= cfg_.ports.size()) {
      finish_connect(last_error_, "could not connect to TWS at " + cfg_.host + ": " + attempts_);
      return;
    }
    reset_socket();
    phase_ = Phase::connecting;
    have_id_ = have_accounts_ = false;
    info_ = SessionInfo{};
    info_.host = cfg_.host;
    info_.port = cfg_.ports[i];
    const auto g = gen_;
    auto self = shared_from_this();
    connect_timer_.expires_after(cfg_.connect_timeout);
    connect_timer_.async_wait([self, g](boost::system::error_code ec) {
      if (ec || g != self->gen_) return;
      if (self->phase_ == Phase::connecting || self->phase_ == Phase::handshaking ||
          self->phase_ == Phase::starting) {
        self->attempt_failed(make_error_code(ClientError::handshake_timeout),
                             "no complete API handshake within " +
                                 std::to_string(self->cfg_.connect_timeout.count()) + " ms");
      }
    });
    resolver_.async_resolve(
        cfg_.host, std::to_string(cfg_.ports[i]),
        [self, g](boost::system::error_code ec, const tcp::resolver::results_type& results) {
          if (g != self->gen_) return;
          if (ec) {
            self->attempt_failed(make_error_code(ClientError::connect_failed), ec.message());
            return;
          }
          asio::async_connect(self->socket_, results,
                              [self, g](boost::system::error_code ec2, const tcp::endpoint&) {
                                if (g != self->gen_) return;
                                if (ec2) {
                                  self->attempt_failed(make_error_code(ClientError::connect_failed),
                                                       ec2.message());
                                  return;
                                }
                                self->on_tcp_connected();
                              });
        });
  }

  void reset_socket() {
    ++gen_;
    boost::system::error_code ignored;
    socket_.close(ignored);
    socket_ = tcp::socket(ex_);
    reader_ = FrameReader();
    outbox_.clear();
    in_flight_.clear();
    writing_ = false;
    pace_armed_ = false;
    pace_timer_.cancel();
    keepalive_timer_.cancel();
    keepalive_outstanding_ = false;
  }

  void attempt_failed(std::error_code ec, const std::string& why) {
    if (!attempts_.empty()) attempts_ += "; ";
    attempts_ += "port " + std::to_string(cfg_.ports[port_index_]) + ": " + why;
    last_error_ = ec;
    spdlog::debug("TWS connect attempt on {}:{} failed: {}", cfg_.host, cfg_.ports[port_index_],
                  why);
    if (ec == ClientError::client_id_in_use) {
      reset_socket();
      phase_ = Phase::closed;
      finish_connect(ec, "client id " + std::to_string(cfg_.client_id) + " is already in use at " +
                             cfg_.host + ":" + std::to_string(cfg_.ports[port_index_]) + " (" +
                             why + ")");
      return;
    }
    try_port(port_index_ + 1);
  }

  void finish_connect(std::error_code ec, const std::string& detail) {
    connect_timer_.cancel();
    if (ec) {
      reset_socket();
      phase_ = Phase::closed;
    }
    auto done = std::move(connect_done_);
    connect_done_ = nullptr;
    if (done) done(ec, detail);
  }

  void on_tcp_connected() {
    phase_ = Phase::handshaking;
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    last_rx_ = Clock::now();
    send_unpaced(encode_handshake(kMinServerVersion, kMaxServerVersion, cfg_.connect_options));
    start_read();
  }

  // ------------------------------------------------------------ reading
  void start_read() {
    auto self = shared_from_this();
    const auto g = gen_;
    char* p = reader_.prepare(kReadChunk);
    socket_.async_read_some(asio::buffer(p, kReadChunk),
                            [self, g](boost::system::error_code ec, std::size_t n) {
                              if (g != self->gen_) return;
                              self->on_read(ec, n);
                            });
  }

  void on_read(boost::system::error_code ec, std::size_t n) {
    if (ec) {
      const std::string why =
          ec == asio::error::eof ? "TWS closed the connection" : "socket error: " + ec.message();
      socket_failed(make_error_code(ClientError::connection_lost), why);
      return;
    }
    reader_.commit(n);
    last_rx_ = Clock::now();
    keepalive_outstanding_ = false;
    const auto g = gen_;
    std::string_view payload;
    std::error_code fec;
    for (;;) {
      const auto st = reader_.next(payload, fec);
      if (st == FrameReader::Status::need_more) break;
      if (st == FrameReader::Status::error) {
        spdlog::error("TWS framing lost ({}); closing the connection", fec.message());
        socket_failed(make_error_code(ClientError::protocol_error), fec.message());
        return;
      }
      on_frame(payload);
      if (g != gen_ || phase_ == Phase::closed || phase_ == Phase::idle) return;
    }
    start_read();
  }

  void socket_failed(std::error_code ec, const std::string& why) {
    switch (phase_) {
    case Phase::connecting:
    case Phase::handshaking:
    case Phase::starting:
      attempt_failed(phase_ == Phase::connecting ? make_error_code(ClientError::connect_failed)
                                                 : make_error_code(ClientError::handshake_failed),
                     why);
      return;
    case Phase::ready:
    case Phase::closing:
      connection_ended(phase_ == Phase::closing ? make_error_code(ClientError::cancelled) : ec,
                       why);
      return;
    default: return;
    }
  }

  void on_frame(std::string_view payload) {
    if (phase_ == Phase::handshaking) {
      std::error_code ec;
      auto hello = decode_server_hello(payload, ec);
      if (!hello) {
        attempt_failed(make_error_code(ClientError::handshake_failed),
                       "unexpected handshake answer: " + printable_payload(payload));
        return;
      }
      if (hello->server_version < kMinServerVersion || hello->server_version > kMaxServerVersion) {
        attempt_failed(make_error_code(ClientError::unsupported_version),
                       "server version " + std::to_string(hello->server_version) + " outside " +
                           std::to_string(kMinServerVersion) + ".." +
                           std::to_string(kMaxServerVersion));
        return;
      }
      info_.server_version = hello->server_version;
      info_.connection_time = hello->connection_time;
      phase_ = Phase::starting;
      send_unpaced(encode(StartApi{cfg_.client_id, ""}, info_.server_version));
      return;
    }
    auto decoded = decode_message(payload, info_.server_version);
    if (decoded.error) {
      spdlog::warn("skipping malformed TWS message (id {}): {}: [{}]", decoded.msg_id,
                   decoded.error.message(), printable_payload(payload));
      return;
    }
    std::visit([this](auto& m) { handle(m); }, decoded.message);
  }

  // ------------------------------------------------------------ dispatch
  void handle(NextValidId& m) {
    info_.next_valid_id = m.order_id;
    have_id_ = true;
    maybe_ready();
  }
  void handle(ManagedAccounts& m) {
    info_.accounts = m.accounts;
    have_accounts_ = true;
    maybe_ready();
  }
  void maybe_ready() {
    if (phase_ != Phase::starting || !have_id_ || !have_accounts_) return;
    phase_ = Phase::ready;
    spdlog::info("connected to TWS at {}:{} (server version {}, client id {}, accounts {})",
                 info_.host, info_.port, info_.server_version, cfg_.client_id, info_.accounts);
    arm_keepalive();
    pump();
    finish_connect({}, "connected to " + info_.host + ":" + std::to_string(info_.port));
  }

  void handle(ErrorMessage& m) {
    const ErrorClass cls = classify_error(m.code);
    if (phase_ == Phase::starting && m.code == 326) {
      attempt_failed(make_error_code(ClientError::client_id_in_use), m.text);
      return;
    }
    if (m.id != kNoValidId) {
      if (auto it = details_.find(m.id); it != details_.end()) {
        if (cls.kind == ErrorKind::request_failed) {
          auto pending = std::move(it->second);
          details_.erase(it);
          if (pending.timer) pending.timer->cancel();
          pending.done(make_error_code(ClientError::request_failed), &m, {});
          return;
        }
      } else if (auto sit = subs_.find(m.id); sit != subs_.end()) {
        auto cb = sit->second;
        if (cls.kind == ErrorKind::request_failed) subs_.erase(sit);
        if (cb->on_error) cb->on_error(m, cls);
        return;
      }
    }
    log_notice(m, cls);
    if (events_.notice) events_.notice(m, cls);
  }

  static void log_notice(const ErrorMessage& m, const ErrorClass& cls) {
    switch (cls.kind) {
    case ErrorKind::info: spdlog::info("TWS notice {}: {}", m.code, m.text); break;
    case ErrorKind::warning:
    case ErrorKind::connectivity: spdlog::warn("TWS {} (id {}): {}", m.code, m.id, m.text); break;
    default: spdlog::error("TWS error {} (id {}): {}", m.code, m.id, m.text); break;
    }
  }

  void handle(ContractData& m) {
    if (auto it = details_.find(m.req_id); it != details_.end())
      it->second.details.push_back(std::move(m.details));
    else spdlog::debug("contract data for unknown request {}", m.req_id);
  }
  void handle(ContractDataEnd& m) {
    auto it = details_.find(m.req_id);
    if (it == details_.end()) return;
    auto pending = std::move(it->second);
    details_.erase(it);
    if (pending.timer) pending.timer->cancel();
    pending.done({}, nullptr, std::move(pending.details));
  }
  void handle(CurrentTime& m) {
    if (time_requests_.empty()) return;
    auto done = std::move(time_requests_.front());
    time_requests_.pop_front();
    if (done) done({}, m.time);
  }
  template <class T> void deliver_tick(int req_id, T& tick) {
    auto it = subs_.find(req_id);
    if (it == subs_.end()) return; // cancelled: TWS may still send a few
    auto cb = it->second;
    if (cb->on_tick) cb->on_tick(Tick{std::move(tick)});
  }
  void handle(TickByTickLast& m) { deliver_tick(m.req_id, m); }
  void handle(TickByTickBidAsk& m) { deliver_tick(m.req_id, m); }
  void handle(TickByTickMidPoint& m) { deliver_tick(m.req_id, m); }
  void handle(TickByTickNone&) {}
  void handle(OtherMessage& m) { spdlog::trace("ignoring TWS message id {}", m.msg_id); }

  // ------------------------------------------------------------ writing
  void send_unpaced(std::string bytes) {
    outbox_.push_back({std::move(bytes), false});
    pump();
  }
  void send(std::string bytes) {
    outbox_.push_back({std::move(bytes), true});
    pump();
  }

  void refill() {
    const auto now = Clock::now();
    const double rate = std::max(1, cfg_.max_messages_per_second);
    tokens_ =
        std::min(rate, tokens_ + std::chrono::duration<double>(now - last_refill_).count() * rate);
    last_refill_ = now;
  }

  void pump() {
    if (writing_ || outbox_.empty()) return;
    if (phase_ != Phase::handshaking && phase_ != Phase::starting && phase_ != Phase::ready &&
        phase_ != Phase::closing)
      return;
    // Paced messages wait until the session is ready (TWS ignores requests
    // sent before the connect burst).
    if (outbox_.front().paced && phase_ != Phase::ready && phase_ != Phase::closing) return;
    refill();
    std::vector<asio::const_buffer> bufs;
    while (!outbox_.empty()) {
      auto& o = outbox_.front();
      if (o.paced) {
        if (tokens_ < 1.0) break;
        tokens_ -= 1.0;
      }
      in_flight_.push_back(std::move(o.bytes));
      outbox_.pop_front();
    }
    if (in_flight_.empty()) {
      arm_pace_timer();
      return;
    }
    for (const auto& s : in_flight_) bufs.emplace_back(asio::buffer(s));
    writing_ = true;
    auto self = shared_from_this();
    const auto g = gen_;
    asio::async_write(socket_, bufs, [self, g](boost::system::error_code ec, std::size_t) {
      if (g != self->gen_) return;
      self->writing_ = false;
      self->in_flight_.clear();
      if (ec) {
        self->socket_failed(make_error_code(ClientError::connection_lost),
                            "write failed: " + ec.message());
        return;
      }
      if (self->phase_ == Phase::closing && self->outbox_.empty()) {
        self->connection_ended(make_error_code(ClientError::cancelled), "disconnected");
        return;
      }
      self->pump();
    });
  }

  void arm_pace_timer() {
    if (pace_armed_) return;
    pace_armed_ = true;
    const double rate = std::max(1, cfg_.max_messages_per_second);
    pace_timer_.expires_after(std::chrono::microseconds(static_cast<long>(1e6 / rate) + 1));
    auto self = shared_from_this();
    const auto g = gen_;
    pace_timer_.async_wait([self, g](boost::system::error_code ec) {
      if (ec || g != self->gen_) return;
      self->pace_armed_ = false;
      self->pump();
    });
  }

  // ------------------------------------------------------------ liveness
  void arm_keepalive() {
    const auto period = std::max(std::chrono::milliseconds(50),
                                 std::min(cfg_.keepalive_interval, cfg_.keepalive_timeout) / 4);
    keepalive_timer_.expires_after(period);
    auto self = shared_from_this();
    const auto g = gen_;
    keepalive_timer_.async_wait([self, g](boost::system::error_code ec) {
      if (ec || g != self->gen_ || self->phase_ != Phase::ready) return;
      self->check_liveness();
      if (g == self->gen_ && self->phase_ == Phase::ready) self->arm_keepalive();
    });
  }

  void check_liveness() {
    const auto now = Clock::now();
    if (keepalive_outstanding_) {
      if (now - keepalive_sent_ >= cfg_.keepalive_timeout) {
        spdlog::error("TWS did not answer a keepalive within {} ms: connection is dead",
                      cfg_.keepalive_timeout.count());
        connection_ended(make_error_code(ClientError::connection_lost),
                         "TWS stopped answering (keepalive timeout)");
      }
      return;
    }
    if (now - last_rx_ >= cfg_.keepalive_interval) {
      keepalive_outstanding_ = true;
      keepalive_sent_ = now;
      time_requests_.push_back(nullptr);
      send(encode(ReqCurrentTime{}));
    }
  }

  // ------------------------------------------------------------ teardown
  void fail_pending(std::error_code ec) {
    auto details = std::move(details_);
    details_.clear();
    for (auto& [id, p] : details) {
      if (p.timer) p.timer->cancel();
      if (p.done) p.done(ec, nullptr, {});
    }
    auto times = std::move(time_requests_);
    time_requests_.clear();
    for (auto& t : times)
      if (t) t(ec, 0);
  }

  void connection_ended(std::error_code ec, const std::string& why) {
    if (phase_ == Phase::closed) return;
    const bool was_session = phase_ == Phase::ready || phase_ == Phase::closing;
    if (ec != ClientError::cancelled) spdlog::warn("TWS connection ended: {}", why);
    subs_.clear();
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    reset_socket();
    close_timer_.cancel();
    phase_ = Phase::closed;
    fail_pending(ec);
    if (was_session && events_.disconnected) events_.disconnected(ec, why);
  }

  void disconnect() {
    switch (phase_) {
    case Phase::connecting:
    case Phase::handshaking:
    case Phase::starting:
      reset_socket();
      phase_ = Phase::closed;
      finish_connect(make_error_code(ClientError::cancelled), "disconnect() during connect");
      return;
    case Phase::ready: {
      for (const auto& [id, cb] : subs_) send(encode(CancelTickByTickData{id}));
      subs_.clear();
      fail_pending(make_error_code(ClientError::cancelled));
      phase_ = Phase::closing;
      // Cancels are paced like everything else; bound the wait.
      close_timer_.expires_after(std::chrono::seconds(2));
      auto self = shared_from_this();
      const auto g = gen_;
      close_timer_.async_wait([self, g](boost::system::error_code ec) {
        if (ec || g != self->gen_) return;
        self->connection_ended(make_error_code(ClientError::cancelled), "disconnected");
      });
      if (!writing_ && outbox_.empty())
        connection_ended(make_error_code(ClientError::cancelled), "disconnected");
      else pump();
      return;
    }
    default: return;
    }
  }

  // ------------------------------------------------------------ requests
  int new_req_id() { return next_req_id_++; }

  void request_contract_details(const Contract& c, DetailsHandler done) {
    if (phase_ != Phase::ready) {
      asio::post(ex_, [done = std::move(done)] {
        done(make_error_code(ClientError::not_connected), nullptr, {});
      });
      return;
    }
    const int id = new_req_id();
    auto timer = std::make_shared<asio::steady_timer>(ex_, cfg_.request_timeout);
    auto self = shared_from_this();
    timer->async_wait([self, id](boost::system::error_code ec) {
      if (ec) return;
      auto it = self->details_.find(id);
      if (it == self->details_.end()) return;
      auto pending = std::move(it->second);
      self->details_.erase(it);
      pending.done(make_error_code(ClientError::timeout), nullptr, {});
    });
    details_[id] = PendingDetails{std::move(done), {}, std::move(timer)};
    send(encode(ReqContractDetails{id, c}, info_.server_version));
  }

  int subscribe(const Contract& c, TickType type, TickCallbacks cb) {
    if (phase_ != Phase::ready) {
      if (cb.on_error) {
        asio::post(ex_, [cb = std::move(cb)] {
          cb.on_error(ErrorMessage{kNoValidId, 504, "Not connected", ""},
                      ErrorClass{ErrorKind::request_failed, "not connected"});
        });
      }
      return 0;
    }
    const int id = new_req_id();
    if (info_.server_version < sv::kTickByTick) {
      // As IB's clients do: refuse locally rather than send what TWS cannot read.
      if (cb.on_error) {
        asio::post(ex_, [cb = std::move(cb), id, v = info_.server_version] {
          cb.on_error(ErrorMessage{id, 503,
                                   "The TWS is out of date and must be upgraded. It does not "
                                   "support tick-by-tick requests (server version " +
                                       std::to_string(v) + " < 137).",
                                   ""},
                      ErrorClass{ErrorKind::request_failed, "TWS too old for tick-by-tick"});
        });
      }
      return id;
    }
    subs_[id] = std::make_shared<TickCallbacks>(std::move(cb));
    ReqTickByTickData req;
    req.req_id = id;
    req.contract = c;
    req.tick_type = std::string(to_string(type));
    send(encode(req, info_.server_version));
    return id;
  }

  void cancel(int req_id) {
    if (subs_.erase(req_id) == 0) return;
    if (phase_ == Phase::ready) send(encode(CancelTickByTickData{req_id}));
  }

  void request_time(TimeHandler done) {
    if (phase_ != Phase::ready) {
      asio::post(
          ex_, [done = std::move(done)] { done(make_error_code(ClientError::not_connected), 0); });
      return;
    }
    time_requests_.push_back(std::move(done));
    send(encode(ReqCurrentTime{}));
  }
};

// ------------------------------------------------------------ Client

Client::Client(Executor ex, ClientConfig config, Events events)
    : impl_(std::make_shared<Impl>(std::move(ex), std::move(config), std::move(events))) {}

Client::~Client() {
  // Pending handlers hold the Impl; make sure they find it closed.
  if (impl_->phase_ != Impl::Phase::idle && impl_->phase_ != Impl::Phase::closed) {
    impl_->events_ = Events{};
    impl_->connect_done_ = nullptr;
    impl_->subs_.clear();
    impl_->details_.clear();
    impl_->time_requests_.clear();
    impl_->reset_socket();
    impl_->phase_ = Impl::Phase::closed;
  }
}

std::shared_ptr<Client> Client::create(Executor ex, ClientConfig config, Events events) {
  return std::shared_ptr<Client>(new Client(std::move(ex), std::move(config), std::move(events)));
}

void Client::connect(ConnectHandler done) { impl_->connect(std::move(done)); }
void Client::disconnect() { impl_->disconnect(); }
bool Client::is_connected() const { return impl_->phase_ == Impl::Phase::ready; }
const SessionInfo& Client::session() const { return impl_->info_; }

void Client::request_contract_details(int con_id, DetailsHandler done) {
  Contract c;
  c.con_id = con_id;
  impl_->request_contract_details(c, std::move(done));
}
void Client::request_contract_details(const Contract& contract, DetailsHandler done) {
  impl_->request_contract_details(contract, std::move(done));
}
int Client::subscribe_tick_by_tick(const Contract& contract, TickType type,
                                   TickCallbacks callbacks) {
  return impl_->subscribe(contract, type, std::move(callbacks));
}
void Client::cancel_tick_by_tick(int req_id) { impl_->cancel(req_id); }
void Client::request_current_time(TimeHandler done) { impl_->request_time(std::move(done)); }
std::size_t Client::subscription_count() const { return impl_->subs_.size(); }

} // namespace tws

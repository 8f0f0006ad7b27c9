// tws::Client, connection lifecycle: connect (ports in turn, handshake,
// startApi), the read loop, paced writes, keepalive, disconnect and teardown
// (requests and message routing are in client_requests.cpp).
#include "tws/client.hpp"
#include "tws/client_impl.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace tws {

namespace asio = boost::asio;

namespace {
constexpr std::size_t kReadChunk = std::size_t{64} * 1024;
}

// ------------------------------------------------------------ connect

void Client::Impl::connect(ConnectHandler done) {
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

void Client::Impl::try_port(std::size_t i) {
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
        asio::async_connect(
            self->socket_, results, [self, g](boost::system::error_code ec2, const tcp::endpoint&) {
              if (g != self->gen_) return;
              if (ec2) {
                self->attempt_failed(make_error_code(ClientError::connect_failed), ec2.message());
                return;
              }
              self->on_tcp_connected();
            });
      });
}

void Client::Impl::reset_socket() {
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

void Client::Impl::attempt_failed(std::error_code ec, const std::string& why) {
  if (!attempts_.empty()) attempts_ += "; ";
  attempts_ += "port " + std::to_string(cfg_.ports[port_index_]) + ": " + why;
  last_error_ = ec;
  spdlog::debug("TWS connect attempt on {}:{} failed: {}", cfg_.host, cfg_.ports[port_index_], why);
  if (ec == ClientError::client_id_in_use) {
    reset_socket();
    phase_ = Phase::closed;
    finish_connect(ec, "client id " + std::to_string(cfg_.client_id) + " is already in use at " +
                           cfg_.host + ":" + std::to_string(cfg_.ports[port_index_]) + " (" + why +
                           ")");
    return;
  }
  try_port(port_index_ + 1);
}

void Client::Impl::finish_connect(std::error_code ec, const std::string& detail) {
  connect_timer_.cancel();
  if (ec) {
    reset_socket();
    phase_ = Phase::closed;
  }
  auto done = std::move(connect_done_);
  connect_done_ = nullptr;
  if (done) done(ec, detail);
}

void Client::Impl::on_tcp_connected() {
  phase_ = Phase::handshaking;
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  last_rx_ = Clock::now();
  send_unpaced(encode_handshake(kMinServerVersion, kMaxServerVersion, cfg_.connect_options));
  start_read();
}

// ------------------------------------------------------------ reading

void Client::Impl::start_read() {
  auto self = shared_from_this();
  const auto g = gen_;
  char* p = reader_.prepare(kReadChunk);
  socket_.async_read_some(asio::buffer(p, kReadChunk),
                          [self, g](boost::system::error_code ec, std::size_t n) {
                            if (g != self->gen_) return;
                            self->on_read(ec, n);
                          });
}

void Client::Impl::on_read(boost::system::error_code ec, std::size_t n) {
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

void Client::Impl::socket_failed(std::error_code ec, const std::string& why) {
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
    connection_ended(phase_ == Phase::closing ? make_error_code(ClientError::cancelled) : ec, why);
    return;
  default: return;
  }
}

void Client::Impl::on_frame(std::string_view payload) {
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
  if (cfg_.message_counts) cfg_.message_counts->add(decoded.msg_id);
  if (decoded.error) {
    spdlog::warn("skipping malformed TWS message (id {}): {}: [{}]", decoded.msg_id,
                 decoded.error.message(), printable_payload(payload));
    return;
  }
  std::visit([this](auto& m) { handle(m); }, decoded.message);
}

// ------------------------------------------------------------ handshake

void Client::Impl::handle(NextValidId& m) {
  info_.next_valid_id = m.order_id;
  have_id_ = true;
  maybe_ready();
}

void Client::Impl::handle(ManagedAccounts& m) {
  info_.accounts = m.accounts;
  have_accounts_ = true;
  maybe_ready();
}

void Client::Impl::maybe_ready() {
  if (phase_ != Phase::starting || !have_id_ || !have_accounts_) return;
  phase_ = Phase::ready;
  spdlog::info("connected to TWS at {}:{} (server version {}, client id {}, accounts {})",
               info_.host, info_.port, info_.server_version, cfg_.client_id, info_.accounts);
  arm_keepalive();
  pump();
  finish_connect({}, "connected to " + info_.host + ":" + std::to_string(info_.port));
}

// ------------------------------------------------------------ writing

void Client::Impl::send_unpaced(std::string bytes) {
  outbox_.push_back({std::move(bytes), false});
  pump();
}

void Client::Impl::send(std::string bytes) {
  outbox_.push_back({std::move(bytes), true});
  pump();
}

void Client::Impl::refill() {
  const auto now = Clock::now();
  const double rate = std::max(1, cfg_.max_messages_per_second);
  tokens_ =
      std::min(rate, tokens_ + std::chrono::duration<double>(now - last_refill_).count() * rate);
  last_refill_ = now;
}

void Client::Impl::pump() {
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

void Client::Impl::arm_pace_timer() {
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

void Client::Impl::arm_keepalive() {
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

void Client::Impl::check_liveness() {
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

void Client::Impl::fail_pending(std::error_code ec) {
  auto details = std::move(details_);
  details_.clear();
  for (auto& [id, p] : details) {
    if (p.timer) p.timer->cancel();
    if (p.done) p.done(ec, nullptr, {});
  }
  auto historical = std::move(historical_);
  historical_.clear();
  for (auto& [id, p] : historical) {
    if (p.timer) p.timer->cancel();
    if (p.done) p.done(ec, nullptr, {});
  }
  auto symbols = std::move(symbols_);
  symbols_.clear();
  for (auto& [id, p] : symbols) {
    if (p.timer) p.timer->cancel();
    if (p.done) p.done(ec, nullptr, {});
  }
  auto times = std::move(time_requests_);
  time_requests_.clear();
  for (auto& t : times)
    if (t) t(ec, 0);
}

void Client::Impl::connection_ended(std::error_code ec, const std::string& why) {
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

void Client::Impl::disconnect() {
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

} // namespace tws

#include "sim/api_listener.hpp"

#include "sim/api_session.hpp"
#include "sim/sim_context.hpp"

#include <boost/asio/dispatch.hpp>
#include <spdlog/spdlog.h>

namespace sim {
namespace {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr auto kReopenRetry = std::chrono::milliseconds(200);
} // namespace

ApiListener::ApiListener(std::shared_ptr<SimContext> ctx)
    : ctx_(std::move(ctx)), acceptor_(ctx_->strand), reopen_timer_(ctx_->strand) {}

void ApiListener::open(std::uint16_t port) {
  const tcp::endpoint endpoint(asio::ip::make_address(ctx_->config.bind_address), port);
  tcp::acceptor acceptor(ctx_->strand);
  acceptor.open(endpoint.protocol());
  // Reopening after `refuse` must not wait for TIME_WAIT of the old sockets.
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen();
  port_ = acceptor.local_endpoint().port();
  acceptor_ = std::move(acceptor);
  ++generation_;
  asio::dispatch(ctx_->strand, [self = shared_from_this()] { self->do_accept(); });
}

void ApiListener::do_accept() {
  if (!acceptor_.is_open()) return;
  acceptor_.async_accept(ctx_->strand, [self = shared_from_this(), generation = generation_](
                                           boost::system::error_code ec, tcp::socket socket) {
    if (generation != self->generation_ || !self->acceptor_.is_open()) return;
    if (ec) {
      // Out of descriptors and the like: keep serving the others.
      spdlog::warn("accept failed: {}", ec.message());
    } else {
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto session =
          std::make_shared<ApiSession>(std::move(socket), self->ctx_, self->ctx_->next_serial++);
      self->ctx_->sessions.add(session);
      session->start();
    }
    self->do_accept();
  });
}

void ApiListener::close() {
  ++generation_;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

void ApiListener::reopen_after(std::chrono::milliseconds delay) {
  close();
  reopen_timer_.expires_after(delay);
  reopen_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->try_reopen();
  });
}

void ApiListener::try_reopen() {
  if (stopped_) return;
  try {
    open(port_);
    ctx_->sessions.clear_holds();
    spdlog::info("API port {} open again", port_);
  } catch (const std::exception& e) {
    spdlog::error("cannot reopen API port {}: {}; retrying", port_, e.what());
    reopen_timer_.expires_after(kReopenRetry);
    reopen_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->try_reopen();
    });
  }
}

void ApiListener::stop() {
  stopped_ = true;
  reopen_timer_.cancel();
  close();
}

} // namespace sim

#include "http/listener.hpp"

#include "http/http_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

namespace http {
namespace asio = boost::asio;

Listener::Listener(EventLoops& loops, std::shared_ptr<ServerState> state)
    : loops_(loops), acceptor_(loops.at(0)), state_(std::move(state)) {}

void Listener::start(const asio::ip::tcp::endpoint& endpoint) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
  do_accept();
}

void Listener::stop() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
  });
}

void Listener::do_accept() {
  // Each connection lives on one event loop (one thread): its sessions
  // never need a lock or a strand.
  acceptor_.async_accept(loops_.next(), [self = shared_from_this()](boost::system::error_code ec,
                                                                    asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
    if (ec) {
      // Out of file descriptors and the like: keep serving the open
      // connections and retry a little later rather than spin.
      spdlog::warn("accept failed: {}", ec.message());
      auto timer = std::make_shared<asio::steady_timer>(self->acceptor_.get_executor());
      timer->expires_after(std::chrono::milliseconds(100));
      timer->async_wait([self, timer](boost::system::error_code) { self->do_accept(); });
      return;
    }
    boost::system::error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    start_http_session(std::move(socket), self->state_);
    self->do_accept();
  });
}

} // namespace http

// http::Listener: accepts connections for ib-stream-server, each onto one
// of the event loops in turn (EventLoops::next), where its HttpSession and
// then its SSE or WebSocket session run for the connection's whole life.
//
// Thread-safety: start() once; stop() from any thread (posts).
#pragma once

#include "http/event_loops.hpp"
#include "http/server_state.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <memory>

namespace http {

class Listener : public std::enable_shared_from_this<Listener> {
public:
  Listener(EventLoops& loops, std::shared_ptr<ServerState> state);

  /// Binds and listens on `endpoint` (port 0: any free port); throws
  /// boost::system::system_error with a clear message when that fails.
  void start(const boost::asio::ip::tcp::endpoint& endpoint);
  /// The port actually bound.
  std::uint16_t port() const { return port_; }
  /// Stops accepting; open sessions are not touched.
  void stop();

private:
  void do_accept();

  EventLoops& loops_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<ServerState> state_;
  std::uint16_t port_ = 0;
};

} // namespace http

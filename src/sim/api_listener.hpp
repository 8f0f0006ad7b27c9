// The API port: accepts TWS API clients and hands each socket to a new
// ApiSession. Can be closed and reopened on the same port later (the
// `refuse` fault: the daily gateway restart).
//
// Thread-safety: open() may be called from any thread before the io_context
// runs the simulator; everything else runs on the simulator's strand.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

namespace sim {

struct SimContext;

class ApiListener : public std::enable_shared_from_this<ApiListener> {
public:
  explicit ApiListener(std::shared_ptr<SimContext> ctx);

  /// Binds and listens (port 0 = any free port), then accepts. Throws
  /// std::system_error when the port cannot be bound.
  void open(std::uint16_t port);
  /// Stops accepting and frees the port; connections are not touched.
  void close();
  /// close() now, open() on the same port after `delay`. Client-id holds
  /// are forgotten at the reopen, as after a real restart.
  void reopen_after(std::chrono::milliseconds delay);
  /// close() for good (no reopen).
  void stop();

  std::uint16_t port() const { return port_; }
  bool listening() const { return acceptor_.is_open(); }

private:
  void do_accept();
  void try_reopen();

  std::shared_ptr<SimContext> ctx_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer reopen_timer_;
  std::uint16_t port_ = 0;
  std::uint64_t generation_ = 0; // bumps per open; stale accept handlers bail
  bool stopped_ = false;
};

} // namespace sim

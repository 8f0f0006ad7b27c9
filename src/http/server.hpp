// http::Server: ib-stream-server's process-level wiring: the io_context and
// its thread pool, the Hub, the listener, and the graceful shutdown on
// SIGINT/SIGTERM (/ready turns 503 at once, every client gets `complete`
// `shutdown`, a bounded drain lets them flush, then the process ends).
//
// Thread-safety: construct and run() from one thread (main).
#pragma once

#include "http/server_config.hpp"
#include "stream/hub.hpp"

#include <cstdint>
#include <functional>

namespace http {

/// The Hub settings for these server settings (api.md §6 -> HubConfig).
stream::HubConfig hub_config(const ServerConfig& config);

class Server {
public:
  explicit Server(ServerConfig config);

  /// Binds the listener, starts the Hub, calls `listening(port)` once
  /// bound, and serves until a signal and the drain are over. Returns the
  /// exit code: 0 after a graceful shutdown, 1 when the address cannot be
  /// bound, 2 when the data directory cannot be used (one line on stderr).
  int run(const std::function<void(std::uint16_t port)>& listening);

private:
  ServerConfig config_;
};

} // namespace http

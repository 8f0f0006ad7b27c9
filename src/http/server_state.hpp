// What every HTTP and SSE session of one ib-stream-server shares: the
// settings, the Hub, the CORS policy and the counters the graceful shutdown
// waits on.
//
// Thread-safety: everything is immutable after construction except the
// atomics, which any strand may read and update.
#pragma once

#include "http/cors_policy.hpp"
#include "http/server_config.hpp"
#include "stream/hub.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>

namespace http {

struct ServerState {
  ServerState(ServerConfig c, std::shared_ptr<stream::Hub> h)
      : config(std::move(c)), hub(std::move(h)), cors(config.cors_origins) {}

  const ServerConfig config;
  const std::shared_ptr<stream::Hub> hub;
  const CorsPolicy cors;
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  /// Set on SIGINT/SIGTERM: /ready answers 503 from then on.
  std::atomic<bool> draining{false};
  /// SSE sessions that have not finished (the drain waits for 0).
  std::atomic<std::size_t> open_streams{0};
};

} // namespace http

// What every HTTP, SSE and WebSocket session of one ib-stream-server
// shares: the settings, the Hub, the record (store) and the workers that
// read it, the CORS policy, the WebSocket limits and statistics, and the
// counters the graceful shutdown waits on.
//
// Thread-safety: everything is immutable after construction except the
// atomics, which any strand may read and update; the Store and
// HistoryWorkers are thread-safe themselves.
#pragma once

#include "contracts/contract_service.hpp"
#include "http/cors_policy.hpp"
#include "http/history_workers.hpp"
#include "http/server_config.hpp"
#include "http/ws_registry.hpp"
#include "record/recorder.hpp"
#include "store/store.hpp"
#include "stream/hub.hpp"
#include "ws/ip_connection_limiter.hpp"
#include "ws/ws_limits.hpp"
#include "ws/ws_stats.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace http {

class ScaleOut;

struct ServerState {
  ServerState(ServerConfig c, std::shared_ptr<stream::Hub> h,
              std::shared_ptr<store::Store> s = nullptr)
      : config(std::move(c)), hub(std::move(h)), store(std::move(s)), cors(config.cors_origins),
        ws_limits{static_cast<std::size_t>(config.ws_max_connections_per_ip),
                  static_cast<std::size_t>(config.ws_max_subscriptions),
                  static_cast<std::size_t>(config.ws_max_messages_per_second),
                  static_cast<std::size_t>(config.ws_max_message_bytes)},
        ws_connections(ws_limits.max_connections_per_ip) {}

  const ServerConfig config;
  const std::shared_ptr<stream::Hub> hub;
  /// The record: history and replay read it (on history_workers).
  const std::shared_ptr<store::Store> store;
  /// Records the tracked streams (set once before the server listens).
  std::shared_ptr<record::Recorder> recorder;
  /// Contract search, details, status and spec resolution (set once
  /// before the server listens).
  std::shared_ptr<contracts::ContractService> contracts;
  /// The scale-out role (README "Scale-out"; disabled on a single node).
  std::shared_ptr<ScaleOut> scaleout;
  const CorsPolicy cors;
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  /// Set on SIGINT/SIGTERM: /ready answers 503 from then on.
  std::atomic<bool> draining{false};
  /// SSE sessions that have not finished (the drain waits for 0).
  std::atomic<std::size_t> open_streams{0};

  // History and replay.
  HistoryWorkers history_workers; // reads the record off the event loops
  /// History and replay responses that have not finished (the drain waits for 0).
  std::atomic<std::size_t> open_record_sessions{0};

  // WebSocket.
  const ws::WsLimits ws_limits;
  ws::WsStats ws_stats;                   // /ws/stats, get_stats
  ws::IpConnectionLimiter ws_connections; // per-IP connection slots
  WsRegistry ws_sessions;                 // told to end at shutdown
  /// WebSocket sessions that have not closed (the drain waits for 0).
  std::atomic<std::size_t> open_ws_sessions{0};
  /// Request ids "req-<n>", unique in this server process.
  std::atomic<std::uint64_t> next_ws_request{0};
};

} // namespace http

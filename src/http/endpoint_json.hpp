// The JSON bodies of ib-stream-server's endpoints (api.md §2), built with
// Boost.JSON from the settings and a Hub snapshot.
//
// Pure functions; thread-safe.
#pragma once

#include "http/server_config.hpp"
#include "stream/hub.hpp"

#include <optional>
#include <string>
#include <vector>

namespace http {

/// GET /: name, version, description, endpoints, tick types, limits.
std::string root_json(const ServerConfig& config);
/// GET /health.
std::string health_json(const stream::HubSnapshot& snap, const ServerConfig& config,
                        double uptime_seconds);
/// GET /ready: whether streams can start; `ready` says which status to send.
std::string ready_json(const stream::HubSnapshot& snap, bool draining, bool& ready);
/// GET /stream/info: tick types, parameters, event types, limits.
std::string stream_info_json(const ServerConfig& config);
/// GET /stream/active: upstream subscriptions and client streams.
std::string active_json(const stream::HubSnapshot& snap);
/// DELETE /stream/{contract_id} and /stream/all.
std::string stopped_json(const std::vector<stream::StoppedStream>& stopped,
                         std::optional<int> con_id);
/// GET /ws/stats: WebSocket is not served yet, so every count is zero.
std::string ws_stats_json();

} // namespace http

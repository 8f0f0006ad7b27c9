// The JSON bodies of ib-stream-server's endpoints (api.md §2), written with
// stream::JsonWriter (json_writer.hpp) from the settings and a Hub snapshot.
//
// Pure functions; thread-safe.
#pragma once

#include "http/server_config.hpp"
#include "record/recorder.hpp"
#include "stream/hub.hpp"
#include "ws/ws_limits.hpp"
#include "ws/ws_stats.hpp"

#include <map>

#include <optional>
#include <string>
#include <vector>

namespace http {

struct BusHealth;

/// GET /: name, version, description, endpoints, tick types, limits.
std::string root_json(const ServerConfig& config);
/// GET /health; `degraded` also when the recorder is (disk full, behind).
/// `bus`: a scale-out node's link (the "nats" object; `degraded` while
/// nats-server is unreachable).
std::string health_json(const stream::HubSnapshot& snap, const ServerConfig& config,
                        double uptime_seconds, const record::RecorderHealth* recorder = nullptr,
                        const BusHealth* bus = nullptr);
/// GET /ready: whether streams can start; `ready` says which status to send.
std::string ready_json(const stream::HubSnapshot& snap, bool draining, bool& ready);
/// GET /stream/info: tick types, parameters, event types, limits.
std::string stream_info_json(const ServerConfig& config);
/// GET /stream/active: upstream subscriptions and client streams.
std::string active_json(const stream::HubSnapshot& snap);
/// DELETE /stream/{contract_id} and /stream/all.
std::string stopped_json(const std::vector<stream::StoppedStream>& stopped,
                         std::optional<int> con_id);
/// GET /ws/stats and the `data` of the control channel's `stats`:
/// {"connections":<active>,"subscriptions":<active>,"per_ip":{"<ip>":<n>},
///  "connections_total":..,"connections_rejected":..,"subscriptions_total":..,
///  "messages":{"received":..,"sent":..,"invalid":..,"rate_limited":..,
///              "received_per_second":..,"sent_per_second":..},
///  "limits":{...},"enabled":true,"timestamp":..}
/// (flat counts at the top: the shape /ws/stats has had since the start).
std::string ws_stats_json(const ws::WsStatsSnapshot& stats,
                          const std::map<std::string, std::size_t>& connections_by_ip,
                          const ws::WsLimits& limits);

} // namespace http

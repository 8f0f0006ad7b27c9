// Routing of ib-stream-server's HTTP requests (api.md §2, README "Recording
// and history"): which endpoint a method and target name, with literal
// paths (/stream/info, /stream/active, /stream/all, /contracts/search)
// taking precedence over /stream/{contract_id} and /contracts/{contract};
// the embedded web assets' paths (src/www) before everything else.
//
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace http {

enum class Endpoint {
  root,            // GET /
  health,          // GET /health
  ready,           // GET /ready
  metrics,         // GET /metrics (Prometheus text)
  stream_info,     // GET /stream/info
  stream_active,   // GET /stream/active
  stream,          // GET /stream/{contract_id}[/{tick_type}]
  stop_contract,   // DELETE /stream/{contract_id}
  stop_all,        // DELETE /stream/all
  ws_stats,        // GET /ws/stats
  ws_schemas,      // GET /ws/schemas
  ws_stream,       // GET /ws/stream/{contract_id}/{tick_type | multi} (WebSocket upgrade)
  ws_control,      // GET /ws/control (WebSocket upgrade)
  history,         // GET /history/{contract_id}/{tick_type}
  history_summary, // GET /history/{contract_id}
  replay,          // GET /replay/{contract_id}
  tracked,         // GET /tracked
  track,           // POST /tracked/{contract_id}?tick_types=...
  untrack,         // DELETE /tracked/{contract_id}
  contract_search, // GET /contracts/search?symbol=...|q=...
  contract,        // GET /contracts/{contract}
  contract_status, // GET /contracts/{contract}/status
  study_delta,     // GET /studies/{contract}/delta (SSE: the multi-delta study's trades)
  web_asset,       // GET a path of src/www's embedded assets (/docs, /openapi.json, /dashboard...)
  preflight,       // OPTIONS on any known path
  not_found,       // no such path: 404 NOT_FOUND
  bad_method,      // known path, other method: 405 with `allow`
  bad_target,      // not an origin-form target: 400
};

struct Route {
  Endpoint endpoint = Endpoint::not_found;
  std::string path;                     // percent-decoded path, for logs and errors
  std::string query;                    // raw query string, without '?'
  std::string contract_segment;         // {contract_id}, percent-decoded
  std::optional<std::string> tick_type; // {tick_type} (or "multi" on /ws/stream), percent-decoded
  std::string allow;                    // the path's methods (the 405 Allow header)
};

/// `method` as sent ("GET"); `target` the request target ("/stream/1?x=y").
Route route_request(std::string_view method, std::string_view target);

} // namespace http

// Settings of ib-stream-server (api.md §6): environment variables, each also
// a command-line flag (the flag wins). A bad setting is one clear line that
// names the variable (or flag) and the valid range.
//
// Pure; thread-safe.
#pragma once

#include "record/tracked.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace http {

struct ServerConfig {
  int client_id = 2;
  std::string tws_host = "127.0.0.1";
  std::vector<std::uint16_t> tws_ports = {7497, 7496, 4002, 4001};
  int max_streams = 50;
  int max_clients = 10000;
  int stream_timeout = 300;  // seconds, default `timeout` of a stream
  int buffer_size = 100;     // ticks a client may fall behind the live stream (its window)
  int ring_size = 1000;      // events kept per stream for resume (at least; also >= buffer_size)
  int ring_bytes = 16 << 20; // ... in at most this many bytes
  int slow_consumer_seconds = 5; // behind (losing ticks) this long: SLOW_CONSUMER
  int threads = 0;               // client event loops; 0 = one per core but one
  int reconnect_attempts = 3;    // quick attempts before capped backoff
  int connection_timeout = 5;    // seconds
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8000; // 0 = any free port
  std::vector<std::string> cors_origins = {"*"};
  std::optional<std::string> api_key;
  std::string log_level = "info";  // trace, debug, info, warn, error, off
  std::string log_format = "json"; // json, text
  // WebSocket (api.md §5 limits; README "WebSocket").
  int ws_max_connections_per_ip = 10;   // the next one is accepted, then closed 1008
  int ws_max_subscriptions = 20;        // per connection; more: RATE_LIMIT_EXCEEDED
  int ws_max_messages_per_second = 100; // client messages; more: close 1008
  int ws_max_message_bytes = 1 << 20;   // larger client message: close 1009
  int ws_tws_grace = 60; // s TWS may stay lost before WebSocket clients are closed 4003; 0 = never
  int ws_idle_timeout = 300; // s without data from the peer: ping at half, close at the whole
  // The record (README "Recording and history").
  std::string data_dir = "./data";  // the SQLite day files
  int retention_days = 30;          // day files kept; 0 = keep everything
  record::TrackedSet track;         // IB_STREAM_TRACK: recorded all the time
  record::TrackedSpecs track_specs; // ... its entries named by spec (resolved when TWS answers)
  // GET /metrics (README "Metrics").
  bool metrics = true;         // off: /metrics answers 404
  bool metrics_public = false; // with an API key: /metrics needs none (like /health)
  // Scale-out (README "Scale-out"): empty nats = a single node.
  std::string nats;                        // nats://HOST:PORT[,...]
  std::string role;                        // publisher | edge (with nats; unset = edge)
  std::string node_name;                   // this node on the bus; empty = host:port
  int nats_max_age = 86400;                // s a JetStream stream keeps ticks
  std::int64_t nats_max_bytes = 1LL << 30; // bytes a JetStream stream keeps
  int lease_ms = 3000;                     // publisher lease ttl

  // Flags without an environment variable (server_flags()).
  bool simulate = false;                       // in-process simulator as the only TWS
  std::uint64_t sim_seed = 1;                  // its market seed
  double sim_rate = 4.0;                       // its market events per second
  std::optional<std::uint16_t> sim_admin_port; // its admin port (0 = any free)
  int linger_ms = 5000;                        // upstream kept after its last client leaves
  int watchdog_silence_ms = 30000;             // minimum silence before a subscription is stale
  int keepalive_seconds = 15;                  // SSE `: keepalive` after this much silence
  int drain_seconds = 5;                       // shutdown: time for clients to get `complete`
  int backoff_max_ms = 30000;                  // TWS reconnect backoff cap
};

/// A scale-out edge (IB_STREAM_NATS with role edge): it keeps no record.
inline bool is_edge(const ServerConfig& c) { return !c.nats.empty() && c.role == "edge"; }

/// One setting: its environment variable and flag.
struct SettingName {
  const char* env;
  const char* flag;
};

/// Looks up an environment variable (nullptr when unset); injectable for tests.
using EnvLookup = std::function<const char*(const char*)>;

/// Reads every setting from `env`, then from `flags` (pairs of "--flag",
/// "value"; the flag wins). Returns the config or one line saying what is
/// wrong, e.g. "IB_STREAM_MAX_STREAMS='0' is invalid: must be an integer
/// from 1 to 10000".
std::variant<ServerConfig, std::string>
load_server_config(const EnvLookup& env,
                   const std::vector<std::pair<std::string, std::string>>& flags);

/// The table of settings, in api.md order (for --help and the docs).
const std::vector<SettingName>& server_settings();

/// A flag without an environment variable; `value` is empty for switches.
struct FlagInfo {
  const char* flag;
  const char* value; // e.g. "N"; nullptr for a switch such as --simulate
  const char* help;
};
/// The flags that are not settings of api.md §6 (--simulate, --linger-ms...).
const std::vector<FlagInfo>& server_flags();

/// argv (without the program name) split into flag/value pairs for
/// load_server_config: "--flag value", "--flag=value", switches as
/// ("--simulate", ""). `help` is set by --help / -h.
struct CommandLine {
  std::vector<std::pair<std::string, std::string>> flags;
  bool help = false;
};
std::variant<CommandLine, std::string> parse_command_line(const std::vector<std::string>& args);

/// The --help text: every flag with its environment variable and default.
std::string server_usage();

} // namespace http

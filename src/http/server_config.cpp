#include "http/server_config.hpp"

#include "record/tracked.hpp"

#include "tws/wire.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>
#include <string_view>

namespace http {
namespace {

const std::vector<SettingName> kSettings = {
    {"IB_STREAM_CLIENT_ID", "--client-id"},
    {"IB_STREAM_HOST", "--host"},
    {"IB_STREAM_PORTS", "--ports"},
    {"IB_STREAM_MAX_STREAMS", "--max-streams"},
    {"IB_STREAM_MAX_CLIENTS", "--max-clients"},
    {"IB_STREAM_STREAM_TIMEOUT", "--stream-timeout"},
    {"IB_STREAM_BUFFER_SIZE", "--buffer-size"},
    {"IB_STREAM_RING_SIZE", "--ring-size"},
    {"IB_STREAM_RING_BYTES", "--ring-bytes"},
    {"IB_STREAM_SLOW_CONSUMER_SECONDS", "--slow-consumer-seconds"},
    {"IB_STREAM_THREADS", "--threads"},
    {"IB_STREAM_RECONNECT_ATTEMPTS", "--reconnect-attempts"},
    {"IB_STREAM_CONNECTION_TIMEOUT", "--connection-timeout"},
    {"IB_STREAM_LISTEN", "--listen"},
    {"IB_STREAM_CORS_ORIGINS", "--cors-origins"},
    {"IB_STREAM_API_KEY", "--api-key"},
    {"IB_STREAM_LOG_LEVEL", "--log-level"},
    {"IB_STREAM_LOG_FORMAT", "--log-format"},
    {"IB_STREAM_WS_MAX_CONNECTIONS_PER_IP", "--ws-max-connections-per-ip"},
    {"IB_STREAM_WS_MAX_SUBSCRIPTIONS", "--ws-max-subscriptions"},
    {"IB_STREAM_WS_MAX_MESSAGES_PER_SECOND", "--ws-max-messages-per-second"},
    {"IB_STREAM_WS_MAX_MESSAGE_BYTES", "--ws-max-message-bytes"},
    {"IB_STREAM_WS_TWS_GRACE", "--ws-tws-grace"},
    {"IB_STREAM_WS_IDLE_TIMEOUT", "--ws-idle-timeout"},
    {"IB_STREAM_DATA_DIR", "--data-dir"},
    {"IB_STREAM_RETENTION_DAYS", "--retention-days"},
    {"IB_STREAM_TRACK", "--track"},
    {"IB_STREAM_METRICS", "--metrics"},
    {"IB_STREAM_METRICS_PUBLIC", "--metrics-public"},
    {"IB_STREAM_NATS", "--nats"},
    {"IB_STREAM_ROLE", "--role"},
    {"IB_STREAM_NODE_NAME", "--node-name"},
    {"IB_STREAM_NATS_MAX_AGE", "--nats-max-age"},
    {"IB_STREAM_NATS_MAX_BYTES", "--nats-max-bytes"},
};

/// Settings that are on or off: their flag alone means on.
bool is_bool_setting(std::string_view flag) {
  return flag == "--metrics" || flag == "--metrics-public";
}

/// 1|true|on|yes or 0|false|off|no, any case.
std::optional<bool> parse_bool(std::string v) {
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (v == "1" || v == "true" || v == "on" || v == "yes") return true;
  if (v == "0" || v == "false" || v == "off" || v == "no") return false;
  return std::nullopt;
}

const std::vector<FlagInfo> kFlags = {
    {"--simulate", nullptr, "start the TWS simulator in-process on a free port and use it as TWS"},
    {"--sim-seed", "N", "market seed of the simulator (default 1)"},
    {"--sim-rate", "EV_PER_S", "market events per second per contract (default 4)"},
    {"--sim-admin-port", "P", "admin port of the simulator, 0 = any free (default: none)"},
    {"--linger-ms", "MS", "keep an upstream subscription after its last client (default 5000)"},
    {"--watchdog-silence-ms", "MS",
     "minimum silence before a subscription is re-requested (default 30000)"},
    {"--keepalive-seconds", "S", "SSE keep-alive comment after this much silence (default 15)"},
    {"--drain-seconds", "S", "on SIGINT/SIGTERM, time for clients to get `complete` (default 5)"},
    {"--backoff-max-ms", "MS", "cap of the TWS reconnect backoff (default 30000)"},
    {"--lease-ms", "MS",
     "publisher: the leader lease's ttl, the standby's takeover bound "
     "(default 3000)"},
};

std::string describe(const std::string& source, const std::string& value) {
  return source + "='" + value + "' is invalid: ";
}

std::optional<std::string> bool_in(const std::string& source, const std::string& value, bool& out) {
  // A flag without a value (--metrics-public) is on.
  const auto b =
      value.empty() && source.rfind("--", 0) == 0 ? std::optional(true) : parse_bool(value);
  if (!b) return describe(source, value) + "must be 1, true, on, yes or 0, false, off, no";
  out = *b;
  return std::nullopt;
}

std::optional<std::string> int_in(const std::string& source, const std::string& value, long lo,
                                  long hi, int& out) {
  const auto v = tws::parse_int(value);
  if (value.empty() || !v || *v < lo || *v > hi)
    return describe(source, value) + "must be an integer from " + std::to_string(lo) + " to " +
           std::to_string(hi);
  out = static_cast<int>(*v);
  return std::nullopt;
}

std::vector<std::string> split_list(const std::string& value) {
  std::vector<std::string> out;
  std::stringstream ss(value);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    out.push_back(item);
  }
  return out;
}

std::optional<std::string> apply(ServerConfig& c, const std::string& key, const std::string& src,
                                 const std::string& v) {
  if (key == "IB_STREAM_CLIENT_ID") return int_in(src, v, 0, 2147483647, c.client_id);
  if (key == "IB_STREAM_HOST") {
    if (v.empty() || v.find_first_of(" \t/") != std::string::npos)
      return describe(src, v) + "must be a host name or IP address";
    c.tws_host = v;
    return std::nullopt;
  }
  if (key == "IB_STREAM_PORTS") {
    std::vector<std::uint16_t> ports;
    for (const auto& p : split_list(v)) {
      int port = 0;
      if (int_in(src, p, 1, 65535, port))
        return describe(src, v) + "must be a comma-separated list of TCP ports (1 to 65535)";
      ports.push_back(static_cast<std::uint16_t>(port));
    }
    if (ports.empty()) return describe(src, v) + "must list at least one port";
    c.tws_ports = std::move(ports);
    return std::nullopt;
  }
  if (key == "IB_STREAM_MAX_STREAMS") return int_in(src, v, 1, 10000, c.max_streams);
  if (key == "IB_STREAM_MAX_CLIENTS") return int_in(src, v, 1, 1000000, c.max_clients);
  if (key == "IB_STREAM_STREAM_TIMEOUT") return int_in(src, v, 5, 3600, c.stream_timeout);
  if (key == "IB_STREAM_BUFFER_SIZE") return int_in(src, v, 1, 1000000, c.buffer_size);
  if (key == "IB_STREAM_RING_SIZE") return int_in(src, v, 1, 10000000, c.ring_size);
  if (key == "IB_STREAM_RING_BYTES") return int_in(src, v, 65536, 2147483647, c.ring_bytes);
  if (key == "IB_STREAM_SLOW_CONSUMER_SECONDS")
    return int_in(src, v, 1, 3600, c.slow_consumer_seconds);
  if (key == "IB_STREAM_THREADS") return int_in(src, v, 0, 256, c.threads);
  if (key == "IB_STREAM_RECONNECT_ATTEMPTS") return int_in(src, v, 0, 1000, c.reconnect_attempts);
  if (key == "IB_STREAM_CONNECTION_TIMEOUT") return int_in(src, v, 1, 300, c.connection_timeout);
  if (key == "IB_STREAM_LISTEN") {
    const auto colon = v.rfind(':');
    int port = 0;
    if (colon == std::string::npos || colon == 0 ||
        int_in(src, v.substr(colon + 1), 0, 65535, port))
      return describe(src, v) +
             "must be HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:8000";
    std::string host = v.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2); // [::1]:8000
    c.listen_host = host;
    c.listen_port = static_cast<std::uint16_t>(port);
    return std::nullopt;
  }
  if (key == "IB_STREAM_CORS_ORIGINS") {
    auto origins = split_list(v);
    const bool ok = !origins.empty() && std::all_of(origins.begin(), origins.end(), [](auto& o) {
      return o == "*" || o.rfind("http://", 0) == 0 || o.rfind("https://", 0) == 0;
    });
    if (!ok)
      return describe(src, v) +
             "must be * or a comma-separated list of origins like https://app.example.com";
    c.cors_origins = std::move(origins);
    return std::nullopt;
  }
  if (key == "IB_STREAM_API_KEY") {
    if (v.empty()) {
      c.api_key.reset(); // empty = no authentication
      return std::nullopt;
    }
    if (v.size() < 8 || v.find_first_of(" \t\r\n") != std::string::npos)
      return src + " is invalid: must be at least 8 characters without spaces";
    c.api_key = v;
    return std::nullopt;
  }
  if (key == "IB_STREAM_LOG_LEVEL") {
    static const char* const kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
    if (std::none_of(std::begin(kLevels), std::end(kLevels), [&](const char* l) { return v == l; }))
      return describe(src, v) + "must be one of trace, debug, info, warn, error, off";
    c.log_level = v;
    return std::nullopt;
  }
  if (key == "IB_STREAM_LOG_FORMAT") {
    if (v != "json" && v != "text") return describe(src, v) + "must be json or text";
    c.log_format = v;
    return std::nullopt;
  }
  if (key == "IB_STREAM_WS_MAX_CONNECTIONS_PER_IP")
    return int_in(src, v, 1, 100000, c.ws_max_connections_per_ip);
  if (key == "IB_STREAM_WS_MAX_SUBSCRIPTIONS")
    return int_in(src, v, 1, 1000, c.ws_max_subscriptions);
  if (key == "IB_STREAM_WS_MAX_MESSAGES_PER_SECOND")
    return int_in(src, v, 1, 100000, c.ws_max_messages_per_second);
  if (key == "IB_STREAM_WS_MAX_MESSAGE_BYTES")
    return int_in(src, v, 1024, 64 << 20, c.ws_max_message_bytes);
  if (key == "IB_STREAM_WS_TWS_GRACE") return int_in(src, v, 0, 86400, c.ws_tws_grace);
  if (key == "IB_STREAM_WS_IDLE_TIMEOUT") return int_in(src, v, 2, 86400, c.ws_idle_timeout);
  if (key == "IB_STREAM_DATA_DIR") {
    if (v.empty() || v.find('\0') != std::string::npos ||
        v.find_first_of("\r\n") != std::string::npos)
      return describe(src, v) + "must be a directory path (created when missing)";
    c.data_dir = v;
    return std::nullopt;
  }
  if (key == "IB_STREAM_RETENTION_DAYS") return int_in(src, v, 0, 36500, c.retention_days);
  if (key == "IB_STREAM_TRACK") {
    std::string err;
    record::TrackedSpecs specs;
    auto set = record::parse_track_spec(v, err, &specs);
    if (!set) return describe(src, v) + err;
    c.track = std::move(*set);
    c.track_specs = std::move(specs);
    return std::nullopt;
  }
  if (key == "IB_STREAM_METRICS") return bool_in(src, v, c.metrics);
  if (key == "IB_STREAM_METRICS_PUBLIC") return bool_in(src, v, c.metrics_public);
  if (key == "IB_STREAM_NATS") {
    if (v.empty()) {
      c.nats.clear(); // empty = a single node
      return std::nullopt;
    }
    for (const auto& url : split_list(v))
      if ((url.rfind("nats://", 0) != 0 && url.rfind("tls://", 0) != 0) || url.size() < 8 ||
          url.find_first_of(" \t\r\n") != std::string::npos)
        return describe(src, v) + "must be nats://HOST:PORT (a comma-separated list for a cluster)";
    c.nats = v;
    return std::nullopt;
  }
  if (key == "IB_STREAM_ROLE") {
    if (!v.empty() && v != "publisher" && v != "edge")
      return describe(src, v) + "must be publisher or edge (empty: edge with IB_STREAM_NATS)";
    c.role = v;
    return std::nullopt;
  }
  if (key == "IB_STREAM_NODE_NAME") {
    const bool ok = v.size() <= 64 && std::all_of(v.begin(), v.end(), [](char ch) {
                      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' ||
                             ch == '_' || ch == '.';
                    });
    if (!ok) return describe(src, v) + "must be up to 64 letters, digits, '-', '_' or '.'";
    c.node_name = v;
    return std::nullopt;
  }
  if (key == "IB_STREAM_NATS_MAX_AGE") return int_in(src, v, 60, 365 * 86400, c.nats_max_age);
  if (key == "IB_STREAM_NATS_MAX_BYTES") {
    const auto n = tws::parse_int(v);
    if (v.empty() || !n || *n < (1 << 20))
      return describe(src, v) + "must be a number of bytes, at least 1048576";
    c.nats_max_bytes = *n;
    return std::nullopt;
  }
  return "unknown setting " + key;
}

std::optional<std::string> apply_flag(ServerConfig& c, const std::string& flag,
                                      const std::string& v) {
  if (flag == "--simulate") {
    if (!v.empty() && v != "true") return flag + " takes no value";
    c.simulate = true;
    return std::nullopt;
  }
  if (flag == "--sim-seed") {
    const auto n = tws::parse_int(v);
    if (v.empty() || !n || *n < 0) return describe(flag, v) + "must be a non-negative integer";
    c.sim_seed = static_cast<std::uint64_t>(*n);
    return std::nullopt;
  }
  if (flag == "--sim-rate") {
    const auto r = tws::parse_double(v);
    if (v.empty() || !r || !(*r >= 0.1 && *r <= 1e6))
      return describe(flag, v) + "must be a number from 0.1 to 1000000";
    c.sim_rate = *r;
    return std::nullopt;
  }
  if (flag == "--sim-admin-port") {
    int port = 0;
    if (auto err = int_in(flag, v, 0, 65535, port)) return err;
    c.sim_admin_port = static_cast<std::uint16_t>(port);
    return std::nullopt;
  }
  if (flag == "--linger-ms") return int_in(flag, v, 0, 3600000, c.linger_ms);
  if (flag == "--watchdog-silence-ms") return int_in(flag, v, 100, 3600000, c.watchdog_silence_ms);
  if (flag == "--keepalive-seconds") return int_in(flag, v, 1, 3600, c.keepalive_seconds);
  if (flag == "--drain-seconds") return int_in(flag, v, 0, 600, c.drain_seconds);
  if (flag == "--backoff-max-ms") return int_in(flag, v, 100, 3600000, c.backoff_max_ms);
  if (flag == "--lease-ms") return int_in(flag, v, 300, 600000, c.lease_ms);
  return "unknown option " + flag + " (see --help)";
}

} // namespace

const std::vector<SettingName>& server_settings() { return kSettings; }

const std::vector<FlagInfo>& server_flags() { return kFlags; }

std::variant<ServerConfig, std::string>
load_server_config(const EnvLookup& env,
                   const std::vector<std::pair<std::string, std::string>>& flags) {
  ServerConfig c;
  for (const auto& s : kSettings) {
    const char* v = env ? env(s.env) : nullptr;
    if (v == nullptr) continue;
    if (auto err = apply(c, s.env, s.env, v)) return *err;
  }
  for (const auto& [flag, value] : flags) {
    auto it = std::find_if(kSettings.begin(), kSettings.end(),
                           [&name = flag](const SettingName& s) { return name == s.flag; });
    if (it == kSettings.end()) {
      if (auto err = apply_flag(c, flag, value)) return *err;
      continue;
    }
    if (auto err = apply(c, it->env, flag, value)) return *err;
  }
  // Scale-out roles (README "Scale-out").
  if (c.nats.empty()) {
    if (!c.role.empty())
      return "IB_STREAM_ROLE (--role) needs IB_STREAM_NATS (--nats): without NATS the server is a "
             "single node";
  } else {
    if (c.role.empty()) c.role = "edge";
    if (c.role == "edge" && (!c.track.empty() || !c.track_specs.empty()))
      return "IB_STREAM_TRACK (--track) is for the publisher: an edge records nothing (its "
             "/history is the publisher's)";
    if (c.role == "edge" && c.simulate)
      return "--simulate is for the publisher: an edge holds no TWS connection";
  }
  return c;
}

std::variant<CommandLine, std::string> parse_command_line(const std::vector<std::string>& args) {
  CommandLine out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      out.help = true;
      continue;
    }
    if (a.rfind("--", 0) != 0 || a.size() == 2)
      return "unexpected argument '" + a + "' (options start with --; see --help)";
    if (const auto eq = a.find('='); eq != std::string::npos) {
      out.flags.emplace_back(a.substr(0, eq), a.substr(eq + 1));
      continue;
    }
    const bool is_switch = std::any_of(kFlags.begin(), kFlags.end(), [&](const FlagInfo& f) {
      return f.value == nullptr && a == f.flag;
    });
    if (is_switch) {
      out.flags.emplace_back(a, "");
      continue;
    }
    if (is_bool_setting(a)) {
      // On by itself; an on/off word after it is its value.
      const bool has_value = i + 1 < args.size() && parse_bool(args[i + 1]).has_value();
      out.flags.emplace_back(a, has_value ? args[++i] : "");
      continue;
    }
    if (i + 1 >= args.size()) return a + " needs a value (see --help)";
    out.flags.emplace_back(a, args[++i]);
  }
  return out;
}

std::string server_usage() {
  std::string out = "ib-stream-server: tick-by-tick market data from TWS / IB Gateway over HTTP "
                    "Server-Sent Events and WebSocket\n\n"
                    "usage: ib-stream-server [--simulate] [options]\n\n"
                    "Settings (environment variable, or its flag; the flag wins):\n";
  const std::map<std::string, std::string> defaults = {
      {"IB_STREAM_CLIENT_ID", "2"},
      {"IB_STREAM_HOST", "127.0.0.1"},
      {"IB_STREAM_PORTS", "7497,7496,4002,4001"},
      {"IB_STREAM_MAX_STREAMS", "50"},
      {"IB_STREAM_MAX_CLIENTS", "10000"},
      {"IB_STREAM_STREAM_TIMEOUT", "300 (seconds, 5..3600)"},
      {"IB_STREAM_BUFFER_SIZE", "100 (ticks a client may fall behind before it loses the oldest)"},
      {"IB_STREAM_RING_SIZE", "1000 (events kept per stream for resume, at least)"},
      {"IB_STREAM_RING_BYTES", "16777216 (... and at most this many bytes of them)"},
      {"IB_STREAM_SLOW_CONSUMER_SECONDS", "5 (behind this long: SLOW_CONSUMER)"},
      {"IB_STREAM_THREADS", "0 (client event loops; 0 = one per core but one, at least 1)"},
      {"IB_STREAM_RECONNECT_ATTEMPTS", "3"},
      {"IB_STREAM_CONNECTION_TIMEOUT", "5 (seconds)"},
      {"IB_STREAM_LISTEN", "127.0.0.1:8000 (port 0 = any free)"},
      {"IB_STREAM_CORS_ORIGINS", "* (or a comma-separated list of origins)"},
      {"IB_STREAM_API_KEY", "unset = no authentication"},
      {"IB_STREAM_LOG_LEVEL", "info"},
      {"IB_STREAM_LOG_FORMAT", "json (or text)"},
      {"IB_STREAM_WS_MAX_CONNECTIONS_PER_IP", "10 (WebSocket connections per client IP)"},
      {"IB_STREAM_WS_MAX_SUBSCRIPTIONS", "20 (per WebSocket connection)"},
      {"IB_STREAM_WS_MAX_MESSAGES_PER_SECOND", "100 (client messages; more closes 1008)"},
      {"IB_STREAM_WS_MAX_MESSAGE_BYTES", "1048576 (1024..67108864)"},
      {"IB_STREAM_WS_TWS_GRACE", "60 (s TWS may stay lost, then close 4003; 0 = never)"},
      {"IB_STREAM_WS_IDLE_TIMEOUT", "300 (s; ping after half without data, close after all)"},
      {"IB_STREAM_DATA_DIR", "./data (the record: SQLite day files; created when missing)"},
      {"IB_STREAM_RETENTION_DAYS", "30 (UTC days of the record kept, 0..36500; 0 = all)"},
      {"IB_STREAM_TRACK", "none (streams recorded all the time: CONTRACT:TYPE[,TYPE];... CONTRACT "
                          "an id or a spec such as ES:FUT:CME:USD:202703)"},
      {"IB_STREAM_METRICS", "on (GET /metrics, Prometheus text; 0|false|off: 404)"},
      {"IB_STREAM_METRICS_PUBLIC",
       "off (on: /metrics needs no API key, like /health; the flag alone is on)"},
      {"IB_STREAM_NATS", "unset = a single node (scale-out: nats://HOST:PORT of nats-server -js)"},
      {"IB_STREAM_ROLE", "edge with IB_STREAM_NATS (publisher: holds TWS; edge: serves clients)"},
      {"IB_STREAM_NODE_NAME", "the host name and listen port (this node on the message bus)"},
      {"IB_STREAM_NATS_MAX_AGE", "86400 (s each JetStream stream keeps ticks, publisher)"},
      {"IB_STREAM_NATS_MAX_BYTES", "1073741824 (bytes each JetStream stream keeps, publisher)"},
  };
  for (const auto& s : kSettings) {
    std::string flag = s.flag;
    flag.resize(30, ' ');
    std::string env = s.env;
    env.resize(38, ' ');
    const auto d = defaults.find(s.env);
    out += "  " + flag + env + (d == defaults.end() ? "" : "default " + d->second) + "\n";
  }
  out += "\nOther options:\n";
  for (const auto& f : kFlags) {
    std::string flag = std::string(f.flag) + (f.value ? std::string(" ") + f.value : "");
    if (flag.size() < 24) flag.resize(24, ' ');
    else flag += ' ';
    out += "  " + flag + f.help + "\n";
  }
  out += "  --help                  this text\n";
  return out;
}

} // namespace http

#include "http/server_config.hpp"

#include "tws/wire.hpp"

#include <algorithm>
#include <sstream>

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
    {"IB_STREAM_RECONNECT_ATTEMPTS", "--reconnect-attempts"},
    {"IB_STREAM_CONNECTION_TIMEOUT", "--connection-timeout"},
    {"IB_STREAM_LISTEN", "--listen"},
    {"IB_STREAM_CORS_ORIGINS", "--cors-origins"},
    {"IB_STREAM_API_KEY", "--api-key"},
    {"IB_STREAM_LOG_LEVEL", "--log-level"},
    {"IB_STREAM_LOG_FORMAT", "--log-format"},
};

std::string describe(const std::string& source, const std::string& value) {
  return source + "='" + value + "' is invalid: ";
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
  return "unknown setting " + key;
}

} // namespace

const std::vector<SettingName>& server_settings() { return kSettings; }

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
                           [&](const SettingName& s) { return flag == s.flag; });
    if (it == kSettings.end()) return "unknown option " + flag;
    if (auto err = apply(c, it->env, flag, value)) return *err;
  }
  return c;
}

} // namespace http

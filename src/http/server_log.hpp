// Logging of ib-stream-server (api.md §6 IB_STREAM_LOG_LEVEL / _FORMAT):
// everything on stderr, stdout stays for the one `listening` line. In json
// format every line is one JSON object {"ts","level","msg",...}; the access
// log adds method, path, status, duration_ms and remote.
//
// setup_server_logging() once at start; log_access() from any thread.
#pragma once

#include <chrono>

#include <string>
#include <string_view>

namespace http {

void setup_server_logging(const std::string& level, const std::string& format);

struct AccessEntry {
  std::string_view method;
  std::string_view path;  // without the query: it may hold the api_key
  std::string_view query; // already redacted (redact_api_key)
  int status = 0;
  double duration_ms = 0;
  std::string_view remote;
  std::string_view note; // e.g. the error code, or "sse" for streams
};

/// Logs the entry and counts the request (count_http_request, GET /metrics).
void log_access(const AccessEntry& entry);

/// Milliseconds since `t` (an access-log entry's duration_ms).
inline double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

} // namespace http

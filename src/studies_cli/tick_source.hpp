// What a live transport (SseSource, WsSource) reports to ib-studies, and
// the pieces both share: the server address and the reconnect backoff.
#pragma once

#include "studies/tick_event.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>

namespace studies_cli {

/// Callbacks of a source; all run on the source's io_context thread.
struct SourceEvents {
  /// A tick event, with its api.md §3 JSON line (for --record).
  std::function<void(const studies::StreamEvent&, std::string_view record_line)> tick;
  /// The contract's minimum tick, from the stream's first info event.
  std::function<void(double min_tick)> min_tick;
  /// The source cannot go on (exit code: kExitCannotConnect); message on stderr.
  std::function<void(int exit_code, const std::string& message)> fatal;
  /// The server ended the stream for good (`complete`, reason `stopped`).
  std::function<void()> ended;
};

/// --server http://HOST[:PORT][/PREFIX], split for Asio and Beast.
struct ServerAddress {
  std::string host;      // for the resolver ("::1" without brackets)
  std::string port;      // "8000"
  std::string host_port; // Host header, e.g. "127.0.0.1:8000", "[::1]:8000"
  std::string prefix;    // path before /stream..., without a trailing slash

  /// False (message in `error`) for anything but http://host[:port][/path].
  static bool parse(std::string_view url, ServerAddress& out, std::string& error);
};

/// Capped exponential backoff with jitter: 250 ms, 500 ms, ... up to 10 s,
/// each delay drawn uniformly from [d/2, d] so that many clients that lost
/// the same server do not come back in step.
class Backoff {
public:
  std::chrono::milliseconds next();
  void reset() { attempt_ = 0; }

private:
  int attempt_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};
};

/// "CODE: message" of an api.md error body ({"error":{"code","message"}}),
/// else the body itself (shortened).
std::string api_error_message(const std::string& body);

/// Writes one notice line on stderr ("ib-studies: ...").
void notice(std::string_view text);

} // namespace studies_cli

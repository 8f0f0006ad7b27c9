// The command line of ib-studies: two subcommands (`delta`, `multi-delta`)
// that share one set of options.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace studies_cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitCannotConnect = 1, // also: the server refused the stream (auth, contract) or could
                          // not resolve a --contract spec (not found, ambiguous, TWS down)
  kExitUsage = 2,
  kExitIncomplete = 3, // --replay-from: the replay ended before its `complete`
};

enum class StudyKind { delta, multi_delta };
enum class Transport { sse, ws };

struct StudiesOptions {
  StudyKind study = StudyKind::multi_delta;
  /// --contract: an id, or 0 until contract_spec is resolved (contract_lookup.hpp).
  int contract_id = 0;
  std::string contract_spec; // --contract as a spec, canonical: "AAPL:STK:SMART:USD"
  std::string server = "http://127.0.0.1:8000";
  Transport transport = Transport::sse;
  /// Canonical names, e.g. {"BidAsk", "Last"}; the trade type is trade_type.
  std::vector<std::string> tick_types;
  std::string trade_type; // "Last" or "AllLast"
  bool quotes = false;    // BidAsk is among tick_types
  int window_seconds = 60;
  double neutral_zone_pct = 0.0;
  bool json = false;
  std::string output;      // JSON Lines, appended
  double duration = 0.0;   // seconds, 0 = none
  long long limit = 0;     // trades, 0 = none
  std::string replay;      // --replay FILE (a local recording)
  std::string since;       // history then live: the server's `since` (ISO, Unix, 15m, ...)
  std::string replay_from; // --replay-from / --replay-to: the server's /replay range
  std::string replay_to;
  std::string speed; // its pace: "max" (default), "1", "10", ...
  std::string record;
  std::string api_key;
  int summary_every = 25; // trades between periodic summaries (human output)

  std::string tick_types_text() const; // "BidAsk,Last"
  bool server_replay() const { return !replay_from.empty(); }
};

/// Parses the command line. Returns options, or an exit code when the
/// program must stop now (--help: 0; usage error: 2, message printed,
/// also for a malformed --contract spec).
std::variant<StudiesOptions, int> parse_options(int argc, char** argv);

} // namespace studies_cli

// The ib-stream command-line streamer: connect to TWS (or an in-process
// simulator), resolve the contract, stream tick-by-tick data to stdout.
#pragma once

#include "contracts/contract_spec.hpp"
#include "tws/messages.hpp"

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitCannotConnect = 1,
  kExitUsage = 2,
  kExitContractNotFound = 3,
  kExitStreamFailed = 4, // TWS refused or lost the subscription / connection
};

struct StreamerOptions {
  int contract_id = 0; // 0 when `spec` names the contract
  /// CONTRACT given as SYMBOL[:SEC_TYPE[:EXCHANGE[:CURRENCY[:EXPIRY]]]]:
  /// it must match exactly one contract.
  std::optional<contracts::ContractSpec> spec;
  int number = 0; // 0 = no limit
  tws::TickType type = tws::TickType::last;
  bool json = false;
  bool verbose = false;
  int client_id = 2;
  std::string host = "127.0.0.1";
  std::vector<std::uint16_t> ports = {7497, 7496, 4002, 4001};
  double connect_timeout = 5.0;
  bool simulate = false;
  std::uint64_t sim_seed = 1;
  double sim_rate = 4.0;
};

/// Parses the command line. Returns options, or an exit code when the
/// program must stop now (--help: 0; usage error: 2, message printed).
std::variant<StreamerOptions, int> parse_options(int argc, char** argv);

/// Runs the streamer; returns the process exit code.
int run_streamer(const StreamerOptions& options);

/// The whole program: parse, set up logging, run.
int main(int argc, char** argv);

} // namespace cli

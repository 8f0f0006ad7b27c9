// `--contract SPEC` (AAPL, ES:FUT:CME:USD:202703): the contract id the
// server resolves it to, asked once before anything else with
// GET /contracts/{spec} (percent-encoded) over the shared GET of
// http_get.hpp, with the same --server and --api-key. 200: its
// `contract_id`; 404 CONTRACT_NOT_FOUND, 400 AMBIGUOUS_CONTRACT (the
// candidates one a line: id, local symbol, expiry), 401/403, 429/503
// (TWS_UNAVAILABLE, ...) and a server that cannot be reached: an error
// message and kExitCannotConnect, like the stream's refusals.
//
// Thread-safety: look_up_contract runs its own io_context on the calling
// thread; the rest are pure functions.
#pragma once

#include "studies_cli/tick_source.hpp"

#include <string>

namespace studies_cli {

struct ContractLookup {
  int contract_id = 0; // > 0: the spec's one contract
  std::string summary; // of a found contract: "AAPL NASDAQ", "MNQH7 20270319"
  int exit_code = 0;   // contract_id 0: the exit code (kExitCannotConnect)
  std::string error;   // contract_id 0: what to print after "error: " (may be several lines)
};

/// The request's path: PREFIX/contracts/{spec}, the spec percent-encoded.
std::string contract_lookup_target(const ServerAddress& server, const std::string& spec);

/// What the server's answer to GET /contracts/{spec} (`status`, `body`)
/// means for --contract `spec`.
ContractLookup contract_lookup_answer(const std::string& spec, unsigned status,
                                      const std::string& body);

/// Asks the server (blocks until it answers, fails, or 30 s pass).
ContractLookup look_up_contract(const ServerAddress& server, const std::string& spec,
                                const std::string& api_key);

} // namespace studies_cli

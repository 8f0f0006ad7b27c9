// The contract endpoints (README "Contracts"): GET /contracts/search
// (?symbol=&sec_type=&exchange=&currency=&expiry= or ?q=), GET
// /contracts/{contract}, GET /contracts/{contract}/status, and the
// resolution of a contract spec in any path that takes a contract id.
// Each validates its input, asks the ContractService and answers through
// `done` on `ex` (the connection's loop).
#pragma once

#include "contracts/contract_service.hpp"
#include "http/response.hpp"
#include "http/server_state.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <string_view>

namespace http {

using Answer = std::function<void(Response)>;

void answer_contract_search(std::shared_ptr<ServerState> state, std::string_view query,
                            boost::asio::any_io_executor ex, Answer done);
void answer_contract_details(std::shared_ptr<ServerState> state, std::string_view segment,
                             boost::asio::any_io_executor ex, Answer done);
void answer_contract_status(std::shared_ptr<ServerState> state, std::string_view segment,
                            boost::asio::any_io_executor ex, Answer done);

/// The response of a failed lookup (Retry-After, the candidates of an
/// ambiguous spec).
Response lookup_error_response(const contracts::LookupError& e);

/// Resolves a {contract_id} path segment that is a spec ("AAPL",
/// "ES:FUT:CME:USD:202703") to a contract id: `done(id, nullopt)` on `ex`,
/// or `done(0, why not)` (400 for a malformed spec). A segment of digits is
/// answered at once as it is.
void resolve_contract_segment(std::shared_ptr<ServerState> state, std::string_view segment,
                              boost::asio::any_io_executor ex,
                              std::function<void(int, std::optional<contracts::LookupError>)> done);
/// Whether a segment needs resolve_contract_segment (it is not all digits).
bool is_contract_spec(std::string_view segment);

} // namespace http

// The tracked-streams endpoints (README "Recording and history"):
// GET /tracked, POST /tracked/{contract_id}?tick_types=BidAsk,Last,
// DELETE /tracked/{contract_id}. Each validates its input, asks the
// recorder (and the Hub for the upstream state) and answers through `done`
// on `ex` (the connection's loop).
#pragma once

#include "http/response.hpp"
#include "http/server_state.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <string_view>

namespace http {

using Answer = std::function<void(Response)>;

void answer_tracked(std::shared_ptr<ServerState> state, boost::asio::any_io_executor ex,
                    Answer done);
void answer_track(std::shared_ptr<ServerState> state, std::string_view contract_segment,
                  std::string_view query, boost::asio::any_io_executor ex, Answer done);
void answer_untrack(std::shared_ptr<ServerState> state, std::string_view contract_segment,
                    boost::asio::any_io_executor ex, Answer done);

} // namespace http

// Console output of the ib-stream command-line streamer: the header, the
// contract line and one aligned line per tick.
//
// Pure functions; thread-safe.
#pragma once

#include "tws/client.hpp"
#include "tws/messages.hpp"

#include <string>

namespace cli {

/// Decimals to print prices with: at least 4, more when the contract's
/// minimum tick needs them (EUR.USD ticks in 0.00005 -> 5).
int price_decimals(double min_tick);

/// "Streaming BidAsk ticks for contract 265598 (max 20 ticks)".
std::string format_header(int con_id, tws::TickType type, int max_ticks);
/// "Contract: AAPL STK AAPL @ SMART (NASDAQ) USD - APPLE INC".
std::string format_contract_line(const tws::ContractDetails& d);

/// One aligned console line for a tick, e.g.
/// "2024-01-15 09:30:00 |   175.2500 |        100 |   NASDAQ"
std::string format_tick_line(const tws::Tick& tick, int decimals);

/// The api.md §1 JSON object of a tick (one line, no newline).
std::string format_tick_json(const tws::Tick& tick);

} // namespace cli

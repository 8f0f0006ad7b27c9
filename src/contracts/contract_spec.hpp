// Contract references as users write them: a contract id ("265598") or a
// spec SYMBOL[:SEC_TYPE[:EXCHANGE[:CURRENCY[:EXPIRY]]]] ("AAPL",
// "ES:FUT:CME:USD:202703", "EUR:CASH:IDEALPRO:USD"), accepted wherever an
// id is (SSE and WebSocket paths and messages, /history, --track, the
// ib-stream CLI). Omitted parts: a stock (the default type) trades SMART
// in USD; a currency pair (CASH) on IDEALPRO; other types match any
// exchange and currency; an empty part ("ES:FUT::USD") matches any.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include "tws/messages.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace contracts {

struct ContractSpec {
  std::string symbol;   // upper case
  std::string sec_type; // STK, FUT, CASH, IND, CONTFUT, ...
  std::string exchange; // empty: any
  std::string currency; // empty: any
  std::string expiry;   // YYYYMM or YYYYMMDD, empty: any
  /// The canonical text: "AAPL:STK:SMART:USD", "ES:FUT:CME:USD:202703".
  std::string text() const;
  /// The reqContractDetails query (conId 0, the set fields).
  tws::Contract query() const;
  bool operator==(const ContractSpec&) const = default;
};

/// A contract id or a spec.
struct ContractRef {
  int con_id = 0; // > 0: an id (spec unset)
  std::optional<ContractSpec> spec;
  bool is_id() const { return con_id > 0; }
  /// What the user gave, canonical: "265598" or the spec's text().
  std::string text() const;
};

/// The security types a spec may name.
bool known_sec_type(std::string_view s);

/// Parses `text`. All digits: a contract id (1..2^31-1). Otherwise a spec.
/// On a malformed value returns nullopt and sets `error` to one sentence
/// naming the bad part (for a 400 INVALID_PARAMETER).
std::optional<ContractRef> parse_contract_ref(std::string_view text, std::string& error);

} // namespace contracts

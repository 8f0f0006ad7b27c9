// The simulator's contract catalog: the instruments it knows, their
// ContractDetails as TWS lays them out, and the parameters of their
// synthetic markets.
//
// Thread-safety: immutable after construction; share freely.
#pragma once

#include "tws/messages.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sim {

enum class AssetClass { stock, future, forex };

/// What the market generator needs to know about an instrument. Prices are
/// integer ticks; price = ticks / ticks_per_unit, which prints exactly.
struct MarketModel {
  AssetClass asset = AssetClass::stock;
  std::int64_t ticks_per_unit = 100; // 1 / minTick
  std::int64_t start_ticks = 0;      // first bid
  /// Where trades print; a venue listed twice is twice as likely.
  std::vector<std::string> venues;
};

struct CatalogEntry {
  tws::ContractDetails details;
  MarketModel model;
  /// False: tick-by-tick requests fail with 10089 (contract details work).
  bool market_data_permission = true;
  /// The market-data farm that serves it (usfarm, usfuture, cashfarm): a
  /// broken farm stops its contracts' ticks.
  std::string farm;

  int con_id() const { return details.contract.con_id; }
};

class ContractCatalog {
public:
  /// The built-in catalog. Trading/liquid hours cover the week that starts
  /// on the UTC day of `today_unix`, as TWS reports the coming sessions.
  explicit ContractCatalog(std::int64_t today_unix);

  const CatalogEntry* find(int con_id) const;
  /// reqContractDetails: the entry with that conId when it is set, else
  /// every entry whose set fields (symbol, secType, currency, exchange,
  /// localSymbol, expiry) all match.
  std::vector<const CatalogEntry*> match(const tws::Contract& query) const;
  /// reqTickByTickData: like match(), but only an unambiguous result.
  const CatalogEntry* resolve(const tws::Contract& query) const;
  const std::vector<CatalogEntry>& entries() const { return entries_; }

private:
  std::vector<CatalogEntry> entries_;
};

} // namespace sim

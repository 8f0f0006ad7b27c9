// The simulator's contract catalog: the instruments it knows, their
// ContractDetails as TWS lays them out, the parameters of their synthetic
// markets, reqContractDetails matching and reqMatchingSymbols search.
//
// Stocks AAPL, MSFT, NVDA, AMZN, SPY (an ETF), TSLA (no market-data
// permission); futures ES and MNQ (CME) for every quarterly month of
// kFirstFutureYear..kLastFutureYear; EUR.USD (IDEALPRO). What depends on the
// date is computed per call from `now` (Unix seconds, the simulator's
// clock): a futures month is listed from four quarters before its expiry
// until the end of its last trading day (the third Friday, exchange time),
// so the next 4 are listed and expiries roll with the date; the hours
// strings cover the local day of `now` and the 6 after it. A conId finds its
// contract whether listed or not (expired months keep answering by conId).
//
// Thread-safety: immutable after construction; share freely.
#pragma once

#include "tws/messages.hpp"

#include <cstdint>
#include <string>
#include <string_view>
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
  /// Everything but the date's tradingHours / liquidHours (empty here; see
  /// ContractCatalog::details_at).
  tws::ContractDetails details;
  MarketModel model;
  /// False: tick-by-tick requests fail with 10089 (contract details work).
  bool market_data_permission = true;
  /// The market-data farm that serves it (usfarm, usfuture, cashfarm): a
  /// broken farm stops its contracts' ticks.
  std::string farm;
  /// reqMatchingSymbols: what this entry shows as (futures: their root as
  /// IND with FUT; one sample per root). Empty sec_type: not a sample.
  tws::ContractDescription sample;
  /// Futures: the last trading day (days since 1970-01-01, exchange date);
  /// 0 for the others.
  std::int64_t last_trading_day = 0;

  int con_id() const { return details.contract.con_id; }
};

/// Which hours a kind of instrument keeps (local to its time zone).
enum class HoursKind { trading, liquid };

class ContractCatalog {
public:
  static constexpr int kFirstFutureYear = 2015;
  static constexpr int kLastFutureYear = 2045;
  /// IB: reqMatchingSymbols returns up to 16 descriptions.
  static constexpr std::size_t kMaxSymbolSamples = 16;

  ContractCatalog();

  /// The entry with that conId, listed or not; nullptr when unknown.
  const CatalogEntry* find(int con_id) const;
  /// reqContractDetails at `now`: the entry with that conId when it is set
  /// (listed or not), else every listed entry whose set fields (symbol,
  /// secType, currency, exchange (any valid one), localSymbol, tradingClass,
  /// expiry as YYYYMM or a YYYYMMDD prefix) all match, case-blind. Needs a
  /// symbol or a localSymbol.
  std::vector<const CatalogEntry*> match(const tws::Contract& query, std::int64_t now) const;
  /// reqTickByTickData / reqHistoricalTicks: like match(), but only an
  /// unambiguous result.
  const CatalogEntry* resolve(const tws::Contract& query, std::int64_t now) const;
  /// Whether the entry is listed at `now` (futures: see above; others always).
  bool listed(const CatalogEntry& entry, std::int64_t now) const;
  /// reqMatchingSymbols: the samples whose symbol starts with `pattern` or
  /// whose description has a word starting with it (case-blind), stocks
  /// first, then futures roots, then currencies; symbol matches before name
  /// matches within each; at most `limit`. An empty pattern matches nothing.
  std::vector<tws::ContractDescription>
  matching_symbols(std::string_view pattern, std::size_t limit = kMaxSymbolSamples) const;

  /// The details as TWS reports them at `now`: the entry's, with the hours
  /// strings of the local day of `now` and the 6 days after it.
  tws::ContractDetails details_at(const CatalogEntry& entry, std::int64_t now) const;
  /// One hours string of the entry ("20261207:0400-20261207:2000;..."), 7
  /// days from `first_day` (days since 1970-01-01, local civil date).
  static std::string hours_text(const CatalogEntry& entry, HoursKind kind, std::int64_t first_day);
  /// The civil day (days since 1970-01-01) in the entry's time zone at `now`.
  static std::int64_t local_day(const CatalogEntry& entry, std::int64_t now);

  const std::vector<CatalogEntry>& entries() const { return entries_; }

private:
  std::vector<CatalogEntry> entries_;
  std::vector<std::pair<int, std::size_t>> by_con_id_; // sorted (conId, index)
};

} // namespace sim

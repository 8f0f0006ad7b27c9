// Market hours of the simulator's contracts: the hours strings contract
// details report (the catalog's for the date, or an admin override), and
// under `--hours real` whether a contract's ticks of a given Unix second
// reach clients (tick-by-tick and historical ticks alike).
//
// Real mode: the ticks of second t exist for clients when the trading hours
// that the contract details report for t's local day (parsed with
// src/hours) say the market is open at t; the market itself keeps running,
// so it stays a pure function of (seed, contract, rate, start, time) and a
// closed period simply delivers and answers nothing. An override applies as
// it stands (outside the days it covers the hours are unknown and ticks
// flow). `--hours always` (the default): every second is open, and the
// details report trading hours around the clock (the simulator's truth).
//
// Thread-safety: none; lives on the simulator's strand (SimContext).
#pragma once

#include "hours/trading_hours.hpp"
#include "sim/contract_catalog.hpp"
#include "sim/simulator.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace sim {

class MarketHours {
public:
  struct Override {
    std::string trading_hours;
    std::string liquid_hours;
    hours::Schedule schedule; // of trading_hours
  };

  MarketHours(const ContractCatalog& catalog, HoursMode mode) : catalog_(catalog), mode_(mode) {}

  HoursMode mode() const { return mode_; }

  /// The contract details at `now`: the catalog's for the date, with the
  /// override's hours strings when there is one; under `--hours always`
  /// (no override) the trading hours are around the clock, as the markets
  /// tick, and the liquid hours the exchange's regular ones.
  tws::ContractDetails details_at(const CatalogEntry& entry, std::int64_t now) const;
  /// "20261205:0000-20261206:0000;..." for the 7 days from `first_day`.
  static std::string around_the_clock(std::int64_t first_day);

  /// Whether the entry's ticks of Unix second `t` are delivered / answered.
  bool open_at(const CatalogEntry& entry, std::int64_t t);

  /// Overrides the entry's hours strings (970+ or older format, local to its
  /// timeZoneId); an empty `liquid` takes `trading`. Returns "" or why the
  /// strings were refused (they are parsed first).
  std::string set_override(const CatalogEntry& entry, std::string trading, std::string liquid);
  /// Drops the override; false when there was none.
  bool reset(int con_id);
  const std::map<int, Override>& overrides() const { return overrides_; }

private:
  /// A stretch of time known to be all open or all closed.
  struct Span {
    std::int64_t from = 0;
    std::int64_t to = 0;
    bool open = true;
  };
  Span span_at(const CatalogEntry& entry, std::int64_t t);

  const ContractCatalog& catalog_;
  HoursMode mode_;
  std::map<int, Override> overrides_;
  std::map<std::pair<int, std::int64_t>, hours::Schedule> schedules_; // (conId, local day)
  std::map<int, Span> spans_;                                         // the last per contract
};

} // namespace sim

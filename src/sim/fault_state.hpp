// The faults currently injected (admin commands), as the rest of the
// simulator sees them: whether a contract's ticks may be delivered now.
//
// Thread-safety: none; lives on the simulator's strand.
#pragma once

#include "sim/contract_catalog.hpp"

#include <array>
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace sim {

/// The market-data farms announced at connect (2104 each), in that order.
inline constexpr std::array<std::string_view, 3> kMarketDataFarms = {"usfarm", "usfuture",
                                                                     "cashfarm"};

// Connection-level notices of the faults (tws-protocol.md §6.2).
inline constexpr const char* kConnectivityLost =
    "Connectivity between IB and Trader Workstation has been lost.";
inline constexpr const char* kRestoredDataLost =
    "Connectivity between IB and Trader Workstation has been restored - data lost.";
inline constexpr const char* kRestoredDataMaintained =
    "Connectivity between IB and Trader Workstation has been restored - data maintained.";
inline constexpr const char* kCompetingSession = "No market data during competing live session";

inline std::string farm_ok_text(std::string_view farm) {
  return "Market data farm connection is OK:" + std::string(farm);
}
inline std::string farm_broken_text(std::string_view farm) {
  return "Market data farm connection is broken:" + std::string(farm);
}

struct FaultState {
  /// 1100 sent and no 1101/1102 yet: nothing is delivered.
  bool lost = false;
  /// Farms reported broken (2103) and not yet OK again (2104).
  std::set<std::string> farms_down;
  /// Silenced conIds; the value says whether subscribers get 10197.
  std::map<int, bool> silenced;

  bool delivering(const CatalogEntry& e) const {
    return !lost && farms_down.count(e.farm) == 0 && silenced.count(e.con_id()) == 0;
  }
};

} // namespace sim

// Checkpoints of the seeded markets, so that any past event can be
// regenerated without replaying a contract's market from event 0 each time.
//
// A Market's state depends only on (seed, conId, index), never on the Unix
// times stamped on its ticks, so a copy of the state every kCheckpointEvery
// events lets `at(i)` start from the nearest checkpoint at or before i. The
// running markets of the feed offer their state as they pass a checkpoint;
// the rest is generated on demand (and kept).
//
// Thread-safety: none; lives on the simulator's strand (or one thread).
#pragma once

#include "sim/contract_catalog.hpp"
#include "sim/market.hpp"

#include <cstdint>
#include <map>
#include <vector>

namespace sim {

class MarketArchive {
public:
  static constexpr std::uint64_t kCheckpointEvery = std::uint64_t{1} << 14;

  explicit MarketArchive(std::uint64_t seed) : seed_(seed) {}

  /// A copy of `entry`'s market whose next event is `index`.
  Market at(const CatalogEntry& entry, std::uint64_t index);
  /// Keeps `market` as a checkpoint when its next index is the next one
  /// missing (a running market passing a checkpoint); otherwise does nothing.
  void offer(const CatalogEntry& entry, const Market& market);
  /// Checkpoints kept for a contract (for status and tests).
  std::size_t checkpoints(int con_id) const;

private:
  std::vector<Market>& chain(const CatalogEntry& entry);

  std::uint64_t seed_;
  std::map<int, std::vector<Market>> chains_; // chains_[c][k]: next index k * kCheckpointEvery
};

} // namespace sim

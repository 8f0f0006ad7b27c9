#include "sim/market_archive.hpp"

namespace sim {

std::vector<Market>& MarketArchive::chain(const CatalogEntry& entry) {
  auto& cps = chains_[entry.con_id()];
  if (cps.empty()) cps.emplace_back(entry.model, seed_, entry.con_id());
  return cps;
}

Market MarketArchive::at(const CatalogEntry& entry, std::uint64_t index) {
  auto& cps = chain(entry);
  const std::uint64_t k = index / kCheckpointEvery;
  while (cps.size() <= k) {
    Market m = cps.back();
    const std::uint64_t target = cps.size() * kCheckpointEvery;
    // The time stamps do not matter: only the state is kept.
    while (m.next_index() < target) m.next(0);
    cps.push_back(std::move(m));
  }
  Market m = cps[k];
  while (m.next_index() < index) m.next(0);
  return m;
}

void MarketArchive::offer(const CatalogEntry& entry, const Market& market) {
  auto& cps = chain(entry);
  if (market.next_index() == cps.size() * kCheckpointEvery) cps.push_back(market);
}

std::size_t MarketArchive::checkpoints(int con_id) const {
  auto it = chains_.find(con_id);
  return it == chains_.end() ? 0 : it->second.size();
}

} // namespace sim

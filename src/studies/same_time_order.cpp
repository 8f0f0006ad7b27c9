#include "studies/same_time_order.hpp"

#include <algorithm>

namespace studies {

std::vector<SameTimeOrder::Item> SameTimeOrder::push(StreamEvent event, std::string line) {
  std::vector<Item> out;
  if (!held_.empty() && held_.front().event.timestamp != event.timestamp) out = flush();
  held_.push_back({std::move(event), std::move(line)});
  return out;
}

std::vector<SameTimeOrder::Item> SameTimeOrder::flush() {
  std::vector<Item> out = std::move(held_);
  held_.clear();
  std::stable_partition(out.begin(), out.end(),
                        [](const Item& i) { return std::holds_alternative<Trade>(i.event.tick); });
  return out;
}

} // namespace studies

#include "studies/same_time_order.hpp"

#include <algorithm>

namespace studies {

namespace {

/// Applying order: timestamp, then trades before quotes; stable (arrival).
void sort_for_applying(std::vector<SameTimeOrder::Item>& items) {
  std::stable_sort(items.begin(), items.end(),
                   [](const SameTimeOrder::Item& a, const SameTimeOrder::Item& b) {
                     if (a.event.timestamp != b.event.timestamp)
                       return a.event.timestamp < b.event.timestamp;
                     return std::holds_alternative<Trade>(a.event.tick) &&
                            !std::holds_alternative<Trade>(b.event.tick);
                   });
}

} // namespace

std::vector<SameTimeOrder::Item> SameTimeOrder::push(StreamEvent event, std::string line) {
  std::string& last_stamp =
      std::holds_alternative<Trade>(event.tick) ? last_trade_stamp_ : last_quote_stamp_;
  if (event.timestamp < last_stamp) event.timestamp = last_stamp;
  else last_stamp = event.timestamp;
  // Everything stamped before the newcomer is complete: released.
  std::vector<Item> out;
  auto older = std::stable_partition(held_.begin(), held_.end(), [&](const Item& i) {
    return i.event.timestamp < event.timestamp;
  });
  out.assign(std::make_move_iterator(held_.begin()), std::make_move_iterator(older));
  held_.erase(held_.begin(), older);
  sort_for_applying(out);
  held_.push_back({std::move(event), std::move(line)});
  return out;
}

std::vector<SameTimeOrder::Item> SameTimeOrder::flush() {
  std::vector<Item> out = std::move(held_);
  held_.clear();
  sort_for_applying(out);
  return out;
}

} // namespace studies

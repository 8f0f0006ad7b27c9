#include "studies/multi_delta_feed.hpp"

#include <variant>

namespace studies {

void MultiDeltaFeed::apply_now(StreamEvent event, std::vector<FedTrade>& out) {
  // As ib-studies applies a server replay: each tick pushed, then flushed.
  push(std::move(event), out);
  flush(out);
}

void MultiDeltaFeed::push(StreamEvent event, std::vector<FedTrade>& out) {
  const auto* trade = std::get_if<Trade>(&event.tick);
  const auto* quote = std::get_if<Quote>(&event.tick);
  if (!(trade && trade->tick_type == "Last") && !quote) return;
  for (const auto& item : order_.push(std::move(event), {})) apply(item.event, out);
}

void MultiDeltaFeed::flush(std::vector<FedTrade>& out) {
  for (const auto& item : order_.flush()) apply(item.event, out);
}

void MultiDeltaFeed::apply(const StreamEvent& event, std::vector<FedTrade>& out) {
  if (const auto* quote = std::get_if<Quote>(&event.tick)) {
    study_.on_quote(*quote);
    return;
  }
  if (const auto* trade = std::get_if<Trade>(&event.tick))
    out.push_back({study_.on_trade(*trade), event.timestamp});
}

} // namespace studies

#include "ws/ws_limits.hpp"

namespace ws {

std::optional<std::string> check_subscription_limit(std::size_t active, std::size_t requested,
                                                    std::size_t max_per_connection) {
  if (active + requested <= max_per_connection) return std::nullopt;
  return "subscription limit reached: " + std::to_string(active) + " active + " +
         std::to_string(requested) + " requested > " + std::to_string(max_per_connection) +
         " per connection; unsubscribe first or open another connection";
}

} // namespace ws

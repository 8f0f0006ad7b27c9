// The configurable limits of the WebSocket API (api.md §5), and the check a
// session makes before it adds subscriptions.
//
// Plain values and a pure function; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace ws {

struct WsLimits {
  std::size_t max_connections_per_ip = 10;
  std::size_t max_subscriptions_per_connection = 20;
  std::size_t max_messages_per_second = 100; // client messages; exceeding closes with 1008
  std::size_t max_message_bytes = 1 << 20;   // 1 MiB
};

/// Whether a connection holding `active` subscriptions may add `requested`
/// more (a multi_subscribe adds all its tick types or none). nullopt: yes;
/// otherwise the message of the RATE_LIMIT_EXCEEDED error, e.g.
/// "subscription limit reached: 19 active + 2 requested > 20 per connection".
std::optional<std::string> check_subscription_limit(std::size_t active, std::size_t requested,
                                                    std::size_t max_per_connection);

} // namespace ws

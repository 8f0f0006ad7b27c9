// ws::MessageRateLimiter: at most N client messages in any sliding window
// (api.md §5: 100 per second; exceeding closes the connection with 1008).
// Exact: it remembers the times of the last N accepted messages.
//
// Thread-safety: none; one per connection, used on that connection's event loop.
// The clock is injectable for tests.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace ws {

class MessageRateLimiter {
public:
  using Clock = std::chrono::steady_clock;
  using NowFn = std::function<Clock::time_point()>;

  explicit MessageRateLimiter(std::size_t max_messages,
                              Clock::duration window = std::chrono::seconds(1),
                              NowFn now = &Clock::now);

  /// Counts one message: true if it is within the limit, false if it is
  /// one too many (it is then not counted: the caller closes the connection).
  [[nodiscard]] bool try_accept();

  /// Messages refused so far.
  std::uint64_t rejected() const { return rejected_; }
  std::size_t max_messages() const { return max_messages_; }

private:
  const std::size_t max_messages_;
  const Clock::duration window_;
  NowFn now_;
  std::vector<Clock::time_point> times_; // ring of the last accepted messages
  std::size_t next_ = 0;                 // oldest entry once the ring is full
  std::uint64_t rejected_ = 0;
};

} // namespace ws

#include "ws/message_rate_limiter.hpp"

namespace ws {

MessageRateLimiter::MessageRateLimiter(std::size_t max_messages, Clock::duration window, NowFn now)
    : max_messages_(max_messages), window_(window), now_(std::move(now)) {
  times_.reserve(max_messages_);
}

bool MessageRateLimiter::try_accept() {
  const auto now = now_();
  if (times_.size() < max_messages_) {
    times_.push_back(now);
    return true;
  }
  // Full ring: the oldest of the last N messages must have left the window.
  if (max_messages_ == 0 || now - times_[next_] < window_) {
    ++rejected_;
    return false;
  }
  times_[next_] = now;
  next_ = (next_ + 1) % max_messages_;
  return true;
}

} // namespace ws

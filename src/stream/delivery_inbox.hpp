// stream::DeliveryInbox: where the Hub's deliveries (ticks, notices, the
// end) meet a client session. The Hub pushes from its strand; the session
// posts one drain to its own strand only when none is pending, and the drain
// takes everything queued so far. Under load one hop carries many ticks, and
// the Hub's order is kept because every kind of delivery goes through here.
//
// Thread-safety: push() and take() may be called from any thread.
#pragma once

#include <mutex>
#include <utility>
#include <vector>

namespace stream {

template <class Item> class DeliveryInbox {
public:
  /// Queues `item`; true when the caller must post a drain (none pending).
  [[nodiscard]] bool push(Item item) {
    std::lock_guard lock(mutex_);
    items_.push_back(std::move(item));
    if (drain_posted_) return false;
    drain_posted_ = true;
    return true;
  }

  /// Moves everything queued into `out` (cleared first, its capacity
  /// reused); the next push() asks for a new drain.
  void take(std::vector<Item>& out) {
    out.clear();
    std::lock_guard lock(mutex_);
    out.swap(items_);
    drain_posted_ = false;
  }

private:
  std::mutex mutex_;
  std::vector<Item> items_;
  bool drain_posted_ = false;
};

} // namespace stream

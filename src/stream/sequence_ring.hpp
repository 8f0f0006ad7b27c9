// The last N events of a subscription, numbered 1, 2, 3... so a client that
// reconnects with Last-Event-ID gets exactly what it missed (api.md §3), or
// learns how many events are gone.
//
// Not thread-safe: owned by its subscription's strand.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

namespace stream {

template <class T> class SequenceRing {
public:
  /// `start_after`: the first item gets number start_after + 1 (a
  /// subscription re-created for the same stream keeps counting, so a
  /// client's Last-Event-ID never points into a different run).
  explicit SequenceRing(std::size_t capacity, std::uint64_t start_after = 0)
      : capacity_(capacity == 0 ? 1 : capacity), last_seq_(start_after) {}

  /// Stores `item` under the next sequence number and returns that number.
  std::uint64_t push(T item) {
    if (items_.size() == capacity_) items_.pop_front();
    items_.push_back(std::move(item));
    return ++last_seq_;
  }

  /// Sequence number of the newest item (0 before the first).
  std::uint64_t last_seq() const { return last_seq_; }
  /// Sequence number of the oldest item still held (last_seq()+1 when empty).
  std::uint64_t first_seq() const { return last_seq_ - items_.size() + 1; }
  std::size_t size() const { return items_.size(); }

  struct Replay {
    std::vector<T> items;        // everything after the id still held, oldest first
    std::uint64_t first_seq = 0; // sequence number of items.front()
    std::uint64_t lost = 0;      // events after the id that are no longer held
    bool unknown_id = false;     // the id is newer than anything we numbered
  };

  /// What a client that last saw `last_seen` has missed.
  Replay after(std::uint64_t last_seen) const {
    Replay r;
    if (last_seen > last_seq_) {
      r.unknown_id = true;
      return r;
    }
    const std::uint64_t first = first_seq();
    if (last_seen + 1 < first) r.lost = first - (last_seen + 1);
    const std::uint64_t from = std::max(first, last_seen + 1);
    r.first_seq = from;
    for (std::uint64_t s = from; s <= last_seq_; ++s) r.items.push_back(items_[s - first]);
    return r;
  }

private:
  std::size_t capacity_;
  std::deque<T> items_;
  std::uint64_t last_seq_ = 0;
};

} // namespace stream

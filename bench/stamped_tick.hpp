// How a tick carries its send time through ib-stream-server unchanged.
//
// The feed writes BidAsk ticks whose `bid_size` is the send time in
// nanoseconds on CLOCK_MONOTONIC (std::chrono::steady_clock) since the
// harness started, and whose `ask_size` is the tick's sequence number within
// its contract. TWS sizes are decimals and the server prints them as JSON
// numbers in shortest round-trip form, so any integer below 2^53 arrives
// digit for digit ("bid_size":1234567890,"ask_size":42): the client reads
// both numbers back out of the event text. Feed and load generator are
// threads of one process, so they read the same clock.
#pragma once

#include "tws/messages.hpp"

#include <chrono>
#include <cstdint>
#include <string_view>

namespace bench {

using Clock = std::chrono::steady_clock;

/// Nanoseconds since the first call in this process (a harness-wide epoch).
inline std::uint64_t now_ns() {
  static const Clock::time_point epoch = Clock::now();
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - epoch).count());
}

/// A BidAsk tick carrying `stamp_ns` and `seq` (see the file comment).
inline tws::TickByTickBidAsk stamped_tick(int req_id, std::uint64_t stamp_ns, std::uint64_t seq) {
  tws::TickByTickBidAsk t;
  t.req_id = req_id;
  t.time = 1700000000 + static_cast<std::int64_t>(stamp_ns / 1000000000u);
  t.bid_price = 189.42;
  t.ask_price = 189.44;
  t.bid_size = static_cast<double>(stamp_ns);
  t.ask_size = static_cast<double>(seq);
  return t;
}

/// The two markers a client looks for in a tick event.
inline constexpr std::string_view kStampKey = "\"bid_size\":";
inline constexpr std::string_view kSeqKey = "\"ask_size\":";

} // namespace bench

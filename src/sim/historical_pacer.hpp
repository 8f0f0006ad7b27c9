// IB's pacing rules for historical-data requests (tws-protocol.md §10.7),
// as the simulator applies them to reqHistoricalTicks: no identical request
// within 15 s; at most 5 requests for the same contract, exchange and tick
// type within 2 s; at most 60 within any 10 minutes, BID_ASK counting twice.
// Only admitted requests count.
//
// Thread-safety: a value type; one object per thread.
#pragma once

#include <chrono>
#include <deque>
#include <string>

namespace sim {

class HistoricalPacer {
public:
  using Clock = std::chrono::steady_clock;

  static constexpr auto kIdenticalWindow = std::chrono::seconds(15);
  static constexpr auto kSameContractWindow = std::chrono::seconds(2);
  static constexpr int kSameContractMax = 5;
  static constexpr auto kTotalWindow = std::chrono::minutes(10);
  static constexpr int kTotalMax = 60;

  /// `identical`: every field of the request; `contract`: contract,
  /// exchange and tick type; `weight`: 2 for BID_ASK, else 1. Records the
  /// request and returns true, or returns false (a pacing violation).
  bool admit(const std::string& identical, const std::string& contract, int weight,
             Clock::time_point now) {
    while (!recent_.empty() && now - recent_.front().when > kTotalWindow) recent_.pop_front();
    int total = 0;
    int same_contract = 0;
    for (const auto& r : recent_) {
      total += r.weight;
      if (now - r.when < kIdenticalWindow && r.identical == identical) return false;
      if (now - r.when < kSameContractWindow && r.contract == contract) ++same_contract;
    }
    if (same_contract >= kSameContractMax || total + weight > kTotalMax) return false;
    recent_.push_back(Entry{now, identical, contract, weight});
    return true;
  }

private:
  struct Entry {
    Clock::time_point when;
    std::string identical;
    std::string contract;
    int weight;
  };
  std::deque<Entry> recent_;
};

} // namespace sim

// IB's historical-data pacing (tws-protocol.md 10.7), kept on our side so
// that backfill never earns a pacing violation: no identical request within
// 15 s; at most 5 requests for one (contract, whatToShow) within 2 s; at
// most 60 request units in any 10 minutes, a BID_ASK request counting
// twice. Requests go one at a time, so the limit of 50 open ones holds.
//
// A value type; one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>

namespace record {

struct PacingLimits {
  std::chrono::milliseconds identical{15000};
  std::size_t per_contract = 5;
  std::chrono::milliseconds per_contract_window{2000};
  std::size_t units = 60;
  std::chrono::milliseconds units_window{600000};
};

class HistoricalPacer {
public:
  using Clock = std::chrono::steady_clock;

  explicit HistoricalPacer(PacingLimits limits = {}) : limits_(limits) {}

  /// When a request (identified by `identity`: contract, type, start...)
  /// may go out at the earliest (<= now: at once).
  Clock::time_point earliest(Clock::time_point now, int con_id, const std::string& what,
                             const std::string& identity) {
    prune(now);
    auto at = now;
    if (auto it = identical_.find(identity); it != identical_.end())
      at = std::max(at, it->second + limits_.identical);
    const auto& same = per_contract_[{con_id, what}];
    if (same.size() >= limits_.per_contract)
      at = std::max(at, same[same.size() - limits_.per_contract] + limits_.per_contract_window);
    const std::size_t cost = units_of(what);
    std::size_t used = 0;
    for (const auto& u : units_) used += u.second;
    if (used + cost > limits_.units) {
      // Wait until enough of the oldest units have left the window.
      std::size_t freed = 0;
      for (const auto& [when, n] : units_) {
        freed += n;
        if (used - freed + cost <= limits_.units) {
          at = std::max(at, when + limits_.units_window);
          break;
        }
      }
    }
    return at;
  }

  void sent(Clock::time_point now, int con_id, const std::string& what,
            const std::string& identity) {
    identical_[identity] = now;
    per_contract_[{con_id, what}].push_back(now);
    units_.emplace_back(now, units_of(what));
  }

  const PacingLimits& limits() const { return limits_; }

private:
  static std::size_t units_of(const std::string& what) { return what == "BID_ASK" ? 2 : 1; }

  void prune(Clock::time_point now) {
    while (!units_.empty() && units_.front().first + limits_.units_window <= now)
      units_.pop_front();
    for (auto it = identical_.begin(); it != identical_.end();)
      it = it->second + limits_.identical <= now ? identical_.erase(it) : std::next(it);
    for (auto& [key, times] : per_contract_)
      while (!times.empty() && times.front() + limits_.per_contract_window <= now)
        times.pop_front();
  }

  PacingLimits limits_;
  std::map<std::string, Clock::time_point> identical_;
  std::map<std::pair<int, std::string>, std::deque<Clock::time_point>> per_contract_;
  std::deque<std::pair<Clock::time_point, std::size_t>> units_;
};

} // namespace record

#include "studies/rolling_window.hpp"

#include <algorithm>

namespace studies {

void RollingWindow::add(std::int64_t unix_time, Side side, double size) {
  advance_to(unix_time);
  trades_.push_back({unix_time, side, size});
  evict(); // a late trade may already be outside the window
}

void RollingWindow::advance_to(std::int64_t unix_time) {
  if (!now_ || unix_time > *now_) now_ = unix_time;
  evict();
}

void RollingWindow::evict() {
  if (!now_) return;
  const std::int64_t oldest_kept = *now_ - window_seconds_ + 1; // time > now - window
  // Out-of-order entries are rare: scan them all rather than only the front.
  trades_.erase(std::remove_if(trades_.begin(), trades_.end(),
                               [&](const Entry& e) { return e.unix_time < oldest_kept; }),
                trades_.end());
}

WindowSummary RollingWindow::summary() const {
  WindowSummary s;
  s.window_seconds = window_seconds_;
  // Summed afresh in arrival order: exact and identical however the window
  // got here (no drift from adding and subtracting decimal sizes).
  for (const auto& e : trades_) {
    ++s.trade_count;
    switch (e.side) {
    case Side::buy: s.total_buy_volume += e.size; break;
    case Side::sell: s.total_sell_volume += e.size; break;
    case Side::neutral: s.total_neutral_volume += e.size; break;
    }
  }
  s.net_delta = s.total_buy_volume - s.total_sell_volume;
  if (s.total_sell_volume > 0.0) s.buy_sell_ratio = s.total_buy_volume / s.total_sell_volume;
  const double directional = s.total_buy_volume + s.total_sell_volume;
  if (directional > 0.0) s.buy_percentage = s.total_buy_volume / directional * 100.0;
  return s;
}

} // namespace studies

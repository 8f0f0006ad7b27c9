// --since reads the record through GET /replay (every tick type in one
// time-ordered stream), then each tick type goes live from where the
// replay left it. ResumePoints notes, per tick type, the last tick applied
// from the replay: its record position (`seq`, or `seq.sub` for a
// backfilled tick, as the tick's `data` carries them) and how many ticks of
// its type were applied with its IB second. LiveStart is how one tick
// type's live stream begins; SecondSkip drops, on a WebSocket (no resume),
// the ticks the replay already applied. Header-only (the unit tests use it
// without the CLI).
//
// Value types; not thread-safe (one thread uses them).
#pragma once

#include "studies_cli/event_id.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace studies_cli {

/// Where a tick type's live stream goes on after the replay.
struct ResumePoint {
  EventId last;                // the last tick applied: its SSE id (seq or seq.sub)
  std::int64_t second = 0;     // its IB time (Unix s)
  std::uint64_t at_second = 0; // ticks of this type applied with that IB time
};

/// How one tick type's live stream begins: after `after` (the record was
/// read up to it), else from `since` (empty: live only).
struct LiveStart {
  std::string since;
  std::optional<ResumePoint> after;
};

/// The canonical tick type of an api.md §1 tick object: `tick_type` of a
/// time_sales tick (Last, AllLast), BidAsk, MidPoint; empty if unknown.
inline std::string tick_type_of(const boost::json::object& data) {
  const auto* type = data.if_contains("type");
  if (!type || !type->is_string()) return {};
  if (type->get_string() == "bid_ask") return "BidAsk";
  if (type->get_string() == "midpoint") return "MidPoint";
  if (type->get_string() == "time_sales")
    if (const auto* t = data.if_contains("tick_type"); t && t->is_string())
      return std::string(t->get_string());
  return {};
}

class ResumePoints {
public:
  /// Notes a tick of the replay, in the order applied. Its `data` must
  /// carry `seq` (and `sub` when backfilled) and `unix_time`; false, and
  /// nothing noted, when it does not.
  bool note(const boost::json::object& data) {
    const auto whole = [](const boost::json::value* v) {
      return v && (v->is_int64() || v->is_uint64());
    };
    const auto* seq = data.if_contains("seq");
    const auto* sub = data.if_contains("sub");
    const auto* time = data.if_contains("unix_time");
    const std::string type = tick_type_of(data);
    if (type.empty() || !whole(seq) || !whole(time) || (sub && !whole(sub))) return false;
    std::string text = std::to_string(seq->to_number<std::uint64_t>());
    if (sub && sub->to_number<std::uint64_t>() != 0)
      text += "." + std::to_string(sub->to_number<std::uint64_t>());
    auto id = parse_event_id(text);
    if (!id) return false;
    const auto second = time->to_number<std::int64_t>();
    ResumePoint& p = points_[type];
    p.at_second = p.at_second > 0 && p.second == second ? p.at_second + 1 : 1;
    p.second = second;
    p.last = std::move(*id);
    return true;
  }

  /// The resume point of a tick type; none when the replay had no tick of it.
  const ResumePoint* find(std::string_view tick_type) const {
    const auto it = points_.find(tick_type);
    return it == points_.end() ? nullptr : &it->second;
  }

private:
  std::map<std::string, ResumePoint, std::less<>> points_;
};

/// A WebSocket tick carries no seq and cannot resume: the subscription asks
/// for `since=<the second of the last tick applied>`. The server sends that
/// type's record from the first tick of that second on, in record order,
/// then live; the replay applied the record's ticks of the type in that same
/// order, all of them up to the last one (IB times never go back within a
/// type's record). So the first `at_second` ticks of that second are exactly
/// the ones already applied: they are dropped, and the next tick is the first
/// new one. Exact, even with several ticks in one second, without comparing
/// tick contents (two ticks of one second may be identical).
class SecondSkip {
public:
  SecondSkip() = default; // skips nothing
  explicit SecondSkip(const ResumePoint& p) : second_(p.second), count_(p.at_second) {}

  /// A new subscription from the same second: the server sends it again.
  void restart() { skipped_ = 0; }
  /// Called for each tick of the type, in order; true: drop it (applied
  /// from the replay). Once a tick is kept, nothing more is dropped.
  bool skip(std::int64_t unix_time) {
    if (done_) return false;
    if (skipped_ < count_ && unix_time == second_) {
      ++skipped_;
      return true;
    }
    done_ = true;
    return false;
  }
  bool done() const { return done_; }

private:
  std::int64_t second_ = 0;
  std::uint64_t count_ = 0;
  std::uint64_t skipped_ = 0;
  bool done_ = false;
};

} // namespace studies_cli

// Historical ticks from the seeded markets (reqHistoricalTicks, §10.2):
// the date-time texts IB accepts, and the ticks of a past interval taken
// from a market by regeneration (MarketArchive), so they are exactly the
// ticks the market streamed, or would have streamed, at those times.
//
// Thread-safety: pure functions, except that collect() uses (and extends)
// the archive it is given; one thread at a time per archive.
#pragma once

#include "sim/event_clock.hpp"
#include "sim/market_archive.hpp"
#include "tws/messages.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sim {

enum class WhatToShow { trades, bid_ask, midpoint };

/// "TRADES", "BID_ASK", "MIDPOINT" (exact, as TWS wants them).
std::optional<WhatToShow> parse_what_to_show(std::string_view text);

/// Unix seconds of an IB date-time: "yyyymmdd-hh:mm:ss" (UTC) or
/// "yyyymmdd hh:mm:ss <zone>" with zone UTC, GMT, Etc/UTC, US/Eastern,
/// America/New_York, US/Central or America/Chicago (US daylight-saving rules
/// since 2007). Anything else: a reason for error 321.
std::variant<std::int64_t, std::string> parse_ib_datetime(std::string_view text);

/// One tick of a historical reply; `time` is the Unix second.
using HistoryTick =
    std::variant<tws::HistoricalTick, tws::HistoricalTickBidAsk, tws::HistoricalTickLast>;
std::int64_t time_of(const HistoryTick& t);

struct HistoryQuery {
  WhatToShow what = WhatToShow::trades;
  bool ignore_size = false;   // BID_ASK: only quotes whose prices moved
  bool from_start = true;     // true: time is startDateTime, false: endDateTime
  std::int64_t time = 0;      // Unix seconds
  std::uint64_t count = 1000; // at least this many, completed to whole seconds
  /// When set, only the ticks of seconds for which it is true count
  /// (--hours real: the contract's open seconds).
  std::function<bool(std::int64_t)> open;
};

/// The market's timeline: its clock, and how many events exist (are due) now.
struct MarketTimeline {
  EventClock clock;
  std::uint64_t end = 0;
};

/// With from_start: the first `count` ticks at or after `time`; else the
/// last `count` ticks at or before it. Either way every tick of the last
/// second reached is added, even past `count`. Oldest first.
std::vector<HistoryTick> collect_history(MarketArchive& archive, const CatalogEntry& entry,
                                         const MarketTimeline& timeline, const HistoryQuery& q);

/// The first event index in [0, end) whose time is >= unix_time, else end.
std::uint64_t first_event_at(const EventClock& clock, std::uint64_t end, std::int64_t unix_time);

} // namespace sim

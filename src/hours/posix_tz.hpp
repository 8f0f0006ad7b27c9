// The POSIX TZ string of a TZif footer (RFC 8536 §3.3, e.g.
// "EST5EDT,M3.2.0,M11.1.0", "<+10>-10", "AEST-10AEDT,M10.1.0,M4.1.0/3"):
// the zone's offsets for instants after its transition table, for any year.
// Internal to src/hours (time_zone.cpp).
//
// Thread-safety: immutable once parsed.
#pragma once

#include "hours/time_zone.hpp"

#include <cstdint>
#include <limits>
#include <string_view>

namespace hours {

/// Offsets are kept below 25 hours either way (POSIX: hh is at most 24).
inline constexpr int kMaxOffset = 25 * 3600 - 1;
/// "No further change".
inline constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

struct TimeZone::Rule {
  /// One end of daylight saving time: a day of the year and a local time
  /// (seconds, -167 h to 167 h: RFC 8536's extension).
  struct When {
    enum Kind { kMonthWeekDay, kJulianNoLeap, kZeroBasedDay } kind = kMonthWeekDay;
    int month = 0, week = 0, weekday = 0; // Mm.w.d (w 5: the last)
    int day = 0;                          // Jn (1-365, Feb 29 never counted) or n (0-365)
    int time = 2 * 3600;
  };

  int std_offset = 0; // seconds east of UTC
  bool has_dst = false;
  int dst_offset = 0;
  When start, end;

  /// Parses a TZ string. Throws std::invalid_argument saying what is wrong.
  static Rule parse(std::string_view tz);
  int offset_at(std::int64_t utc) const;
  /// The first instant after `utc` where the offset changes, or kNever.
  std::int64_t next_change_after(std::int64_t utc) const;

private:
  /// The UTC instants DST starts and ends in year `y`; `always` when DST
  /// covers the whole year (e.g. "...,0/0,J365/25").
  void changes_in(int y, std::int64_t& dst_start, std::int64_t& dst_end, bool& always) const;
  struct Change {
    std::int64_t at;
    bool dst;
  };
  /// The changes of years y-1..y+1, ascending; returns their number (0-6),
  /// or -1 when DST is in effect all of year y.
  int changes_around(int y, Change (&out)[6]) const;
};

} // namespace hours

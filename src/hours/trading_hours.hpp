// IB's trading and liquid hours (CONTRACT_DATA tradingHours / liquidHours,
// tws-protocol.md §10.12) parsed into sessions in UTC, and the market
// status of a contract at a given instant.
//
// Formats accepted (times are local to the contract's timeZoneId):
//   970+ : "20260823:1700-20260824:1600;20260825:CLOSED;..."
//   older: "20090507:0700-1830,1830-2330;20090508:CLOSED"
// Sessions over midnight, CLOSED days and daylight-saving changes in the
// zone are exact (a local time that does not exist or is ambiguous at a
// change is resolved like IB's exchanges do: the first of two, shifted
// forward when skipped).
//
// Thread-safety: plain values and pure functions.
#pragma once

#include "hours/time_zone.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hours {

/// One session, [open, close) in Unix seconds (UTC).
struct Session {
  std::int64_t open = 0;
  std::int64_t close = 0;
  bool operator==(const Session&) const = default;
};

/// A parsed hours string: the sessions, sorted and non-overlapping
/// (touching sessions are kept apart: 1600-1700 break is a gap, a session
/// ending when the next begins is one market day after another), and the
/// span of local days the string covers, [covered_from, covered_to) in UTC
/// (midnight of the first day to midnight after the last day, local time):
/// outside it nothing is known.
struct Schedule {
  std::vector<Session> sessions;
  std::int64_t covered_from = 0;
  std::int64_t covered_to = 0;
  bool empty() const { return covered_to <= covered_from; }
};

/// Parses `text` with times local to `zone`. Throws std::invalid_argument
/// naming the bad entry. An empty string gives an empty Schedule.
Schedule parse_hours(std::string_view text, const TimeZone& zone);

/// The market at instant `now` (Unix seconds).
struct Status {
  /// Whether `now` lies within the covered span (else open/next_* are
  /// unknown: open is reported true so that nothing is suppressed).
  bool known = false;
  bool open = false;
  std::optional<Session> session;         // the session `now` is in
  std::optional<std::int64_t> next_open;  // the next session's open after now
  std::optional<std::int64_t> next_close; // the close of the current or next session
};
Status status_at(const Schedule& schedule, std::int64_t now);

} // namespace hours

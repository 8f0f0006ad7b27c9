// Time zones from the system's zoneinfo files (TZif, RFC 8536; Debian's
// tzdata): UTC offsets at any instant, and local civil time to UTC. IB's
// zone names (US/Eastern, US/Central, Europe/London, ...) are tzdata names;
// the old abbreviations IB sometimes sends (EST, CST, MET, GMT, JST, ...)
// are mapped to the zone they stand for.
//
// Thread-safety: a TimeZone is immutable; TimeZone::load may be called from
// any thread (zones are loaded once and cached).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hours {

class TimeZone {
public:
  /// The zone named `name` (from $TZDIR or /usr/share/zoneinfo). Throws
  /// std::invalid_argument for an unknown or unreadable zone (the message
  /// names it).
  static std::shared_ptr<const TimeZone> load(std::string_view name);
  /// Built from TZif bytes (tests, fuzzing).
  static std::shared_ptr<const TimeZone> from_tzif(std::string name, std::string_view bytes);

  const std::string& name() const { return name_; }
  /// Seconds east of UTC in effect at `utc` (Unix seconds).
  int offset_at(std::int64_t utc) const;
  /// The UTC instant of local civil time `local` (seconds since 1970-01-01
  /// 00:00 local). A time skipped by a change (spring forward) is moved
  /// forward by the gap; a repeated one (fall back) gives the first.
  std::int64_t to_utc(std::int64_t local) const;

  struct Rule; // the POSIX TZ footer's rule for times after the table
  ~TimeZone();

private:
  TimeZone() = default;
  /// The first instant after `utc` where the offset may change (INT64_MAX:
  /// none).
  std::int64_t next_change_after(std::int64_t utc) const;
  std::string name_;
  std::vector<std::int64_t> transitions_; // UTC instants, ascending
  std::vector<int> offsets_after_;        // offset from each transition on
  int initial_offset_ = 0;
  std::unique_ptr<Rule> rule_;
};

/// Days since 1970-01-01 of a civil date, and back (proleptic Gregorian).
std::int64_t days_from_civil(int y, unsigned m, unsigned d);
struct CivilDate {
  int y;
  unsigned m, d;
};
CivilDate civil_from_days(std::int64_t days);

} // namespace hours

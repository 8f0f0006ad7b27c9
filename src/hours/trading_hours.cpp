// IB's trading/liquid hours strings into UTC sessions (parse_hours) and the
// market status at an instant (status_at). Grammar, after trimming spaces:
//
//   hours = entry *(";" entry) [";"]
//   entry = date ":CLOSED" / date ":" range *("," range)
//   range = [date ":"] HHMM "-" [date ":"] HHMM
//
// A range without dates is on the entry's date; a close without a date that
// is earlier than its open is on the next day (TWS before 970). HHMM is
// 0000-2359, or 2400 (the end of the day). The span covered runs from local
// midnight of the earliest day named to local midnight after the latest day
// named or closed on.
//
// Thread-safety: pure functions.
#include "hours/trading_hours.hpp"

#include <algorithm>
#include <stdexcept>

namespace hours {
namespace {

constexpr std::int64_t kDay = 86400;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int number(std::string_view s) {
  int v = 0;
  for (const char c : s) v = v * 10 + (c - '0');
  return v;
}

/// One entry being parsed: errors quote it.
class EntryParser {
public:
  explicit EntryParser(std::string_view entry) : entry_(entry) {}

  [[noreturn]] void fail(const char* what) const {
    throw std::invalid_argument("invalid trading hours entry \"" + std::string(entry_) +
                                "\": " + what);
  }

  /// YYYYMMDD as days since 1970-01-01.
  std::int64_t date(std::string_view s) const {
    if (s.size() != 8 || !digits(s)) fail("date is not YYYYMMDD");
    const int y = number(s.substr(0, 4));
    const auto m = static_cast<unsigned>(number(s.substr(4, 2)));
    const auto d = static_cast<unsigned>(number(s.substr(6, 2)));
    if (y < 1 || m < 1 || m > 12 || d < 1) fail("no such date");
    const std::int64_t days = days_from_civil(y, m, d);
    const CivilDate back = civil_from_days(days);
    if (back.y != y || back.m != m || back.d != d) fail("no such date");
    return days;
  }

  /// HHMM as seconds after midnight (2400: the end of the day).
  std::int64_t time(std::string_view s) const {
    if (s.size() != 4 || !digits(s)) fail("time is not HHMM");
    const int h = number(s.substr(0, 2));
    const int m = number(s.substr(2, 2));
    if (m > 59 || h > 24 || (h == 24 && m != 0)) fail("no such time of day");
    return h * 3600 + m * 60;
  }

  /// "[YYYYMMDD:]HHMM" as local seconds; `has_date` says whether it named one.
  std::int64_t instant(std::string_view s, std::int64_t default_day, bool& has_date) const {
    const auto colon = s.find(':');
    has_date = colon != std::string_view::npos;
    const std::int64_t day = has_date ? date(s.substr(0, colon)) : default_day;
    return day * kDay + time(has_date ? s.substr(colon + 1) : s);
  }

private:
  std::string_view entry_;
};

/// Sessions in local seconds and the local days named, across all entries.
struct LocalHours {
  std::vector<std::pair<std::int64_t, std::int64_t>> sessions;
  std::int64_t first_day = 0, last_day = 0;
  bool any = false;

  void cover(std::int64_t day) {
    first_day = any ? std::min(first_day, day) : day;
    last_day = any ? std::max(last_day, day) : day;
    any = true;
  }
};

std::int64_t floor_day(std::int64_t local) { return local / kDay - ((local % kDay) < 0 ? 1 : 0); }

void parse_entry(std::string_view entry, LocalHours& out) {
  const EntryParser p(entry);
  const auto colon = entry.find(':');
  if (colon == std::string_view::npos) p.fail("no ':' after the date");
  const std::int64_t day = p.date(entry.substr(0, colon));
  out.cover(day);
  std::string_view rest = entry.substr(colon + 1);
  if (rest == "CLOSED") return;
  while (true) {
    const auto comma = rest.find(',');
    const std::string_view range = rest.substr(0, comma);
    const auto dash = range.find('-');
    if (dash == std::string_view::npos) p.fail("no '-' between open and close");
    bool open_dated = false, close_dated = false;
    const std::int64_t open = p.instant(range.substr(0, dash), day, open_dated);
    const std::int64_t open_day = floor_day(open);
    std::int64_t close = p.instant(range.substr(dash + 1), open_day, close_dated);
    if (!close_dated && close < open) close += kDay; // over midnight (before 970)
    if (close <= open) p.fail("session closes before it opens");
    out.cover(open_day);
    out.cover(floor_day(close - 1)); // the last local day the session touches
    if (close_dated) out.cover(floor_day(close));
    out.sessions.emplace_back(open, close);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
}

} // namespace

Schedule parse_hours(std::string_view text, const TimeZone& zone) {
  text = trim(text);
  while (!text.empty() && text.back() == ';') text = trim(text.substr(0, text.size() - 1));
  Schedule schedule;
  if (text.empty()) return schedule;

  const std::string_view all = text;
  LocalHours local;
  while (true) {
    const auto semicolon = text.find(';');
    const std::string_view entry = trim(text.substr(0, semicolon));
    if (entry.empty()) {
      throw std::invalid_argument("invalid trading hours: empty entry in \"" + std::string(all) +
                                  "\"");
    }
    parse_entry(entry, local);
    if (semicolon == std::string_view::npos) break;
    text = text.substr(semicolon + 1);
  }

  for (const auto& [open, close] : local.sessions) {
    const Session s{zone.to_utc(open), zone.to_utc(close)};
    if (s.close > s.open) schedule.sessions.push_back(s); // empty after a DST skip
  }
  std::sort(schedule.sessions.begin(), schedule.sessions.end(),
            [](const Session& a, const Session& b) {
              return a.open != b.open ? a.open < b.open : a.close < b.close;
            });
  std::vector<Session> merged;
  for (const Session& s : schedule.sessions) {
    if (!merged.empty() && s.open < merged.back().close) { // overlapping, not touching
      merged.back().close = std::max(merged.back().close, s.close);
    } else {
      merged.push_back(s);
    }
  }
  schedule.sessions = std::move(merged);
  schedule.covered_from = zone.to_utc(local.first_day * kDay);
  schedule.covered_to = zone.to_utc((local.last_day + 1) * kDay);
  return schedule;
}

Status status_at(const Schedule& schedule, std::int64_t now) {
  Status status;
  if (schedule.empty() || now < schedule.covered_from || now >= schedule.covered_to) {
    status.open = true; // unknown: nothing may be suppressed for it
    return status;
  }
  status.known = true;
  const auto& sessions = schedule.sessions;
  const auto next = std::upper_bound(sessions.begin(), sessions.end(), now,
                                     [](std::int64_t t, const Session& s) { return t < s.open; });
  if (next != sessions.begin() && now < std::prev(next)->close) {
    status.open = true;
    status.session = *std::prev(next);
    status.next_close = status.session->close;
  }
  if (next != sessions.end()) {
    status.next_open = next->open;
    if (!status.next_close) status.next_close = next->close;
  }
  return status;
}

} // namespace hours

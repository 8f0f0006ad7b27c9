// The POSIX TZ string of a TZif footer: parsing, and offsets for any year
// (see posix_tz.hpp). All three forms of a DST rule are read: Mm.w.d,
// Jn (1-365, February 29 never counted) and n (0-365). A DST name without
// a rule ("EST5EDT") takes the US rule, as tzcode and glibc do. Times of
// day may be -167 h to 167 h (RFC 8536 §3.3.1).
//
// Thread-safety: pure functions of an immutable Rule.
#include "hours/posix_tz.hpp"

#include <stdexcept>
#include <string>

namespace hours {
namespace {

constexpr std::int64_t kDay = 86400;
/// The Gregorian calendar, weekdays included, repeats every 400 years.
constexpr std::int64_t kPeriod = 146097 * kDay;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0 && (a % b < 0) != (b < 0)) ? 1 : 0);
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

std::int64_t local_day(const TimeZone::Rule::When& w, int y) {
  using When = TimeZone::Rule::When;
  switch (w.kind) {
  case When::kJulianNoLeap:
    return days_from_civil(y, 1, 1) + w.day - 1 + (is_leap(y) && w.day >= 60 ? 1 : 0);
  case When::kZeroBasedDay: return days_from_civil(y, 1, 1) + w.day;
  case When::kMonthWeekDay: break;
  }
  const auto m = static_cast<unsigned>(w.month);
  const std::int64_t first = days_from_civil(y, m, 1);
  const std::int64_t next_month =
      m == 12 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, m + 1, 1);
  const auto first_weekday =
      static_cast<int>(first + 4 - floor_div(first + 4, 7) * 7); // 0 = Sunday
  std::int64_t day = first + (w.weekday - first_weekday + 7) % 7 + (w.week - 1) * 7;
  while (day >= next_month) day -= 7; // week 5: the last such weekday
  return day;
}

class Parser {
public:
  explicit Parser(std::string_view s) : s_(s) {}

  [[noreturn]] void fail(const char* what) const {
    throw std::invalid_argument("bad TZ string \"" + std::string(s_) + "\": " + what);
  }
  bool at_end() const { return i_ == s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[i_]; }
  bool take(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }

  void name() {
    std::size_t n = 0;
    if (take('<')) {
      while (!at_end() && s_[i_] != '>') {
        const char c = s_[i_++];
        if (!is_alnum(c) && c != '+' && c != '-') fail("bad character in a <quoted> zone name");
        ++n;
      }
      if (!take('>')) fail("unterminated <quoted> zone name");
    } else {
      while (is_alpha(peek())) ++i_, ++n;
    }
    if (n < 3) fail("zone name shorter than 3 characters");
  }

  int number(int max) {
    if (!is_digit(peek())) fail("number expected");
    int v = 0;
    for (int digits = 0; is_digit(peek()); ++digits) {
      if (digits == 3) fail("number too long");
      v = v * 10 + (s_[i_++] - '0');
    }
    if (v > max) fail("number out of range");
    return v;
  }

  /// [+-]hh[:mm[:ss]] in seconds.
  int hms(int max_hours) {
    int sign = 1;
    if (take('-')) {
      sign = -1;
    } else {
      take('+');
    }
    int v = number(max_hours) * 3600;
    if (take(':')) {
      v += number(59) * 60;
      if (take(':')) v += number(59);
    }
    return sign * v;
  }

  /// A POSIX offset (positive west of UTC) as seconds east of UTC.
  int offset() {
    const int east = -hms(24);
    if (east < -kMaxOffset || east > kMaxOffset) fail("offset out of range");
    return east;
  }

  TimeZone::Rule::When when() {
    using When = TimeZone::Rule::When;
    When w;
    if (take('M')) {
      w.kind = When::kMonthWeekDay;
      w.month = number(12);
      if (w.month < 1 || !take('.')) fail("bad Mm.w.d rule");
      w.week = number(5);
      if (w.week < 1 || !take('.')) fail("bad Mm.w.d rule");
      w.weekday = number(6);
    } else if (take('J')) {
      w.kind = When::kJulianNoLeap;
      w.day = number(365);
      if (w.day < 1) fail("bad Jn rule");
    } else {
      w.kind = When::kZeroBasedDay;
      w.day = number(365);
    }
    if (take('/')) w.time = hms(167);
    return w;
  }

private:
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  static bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
  static bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }

  std::string_view s_;
  std::size_t i_ = 0;
};

} // namespace

TimeZone::Rule TimeZone::Rule::parse(std::string_view tz) {
  Parser p(tz);
  Rule r;
  p.name();
  r.std_offset = p.offset();
  r.dst_offset = r.std_offset;
  if (p.at_end()) return r;
  r.has_dst = true;
  p.name();
  if (!p.at_end() && p.peek() != ',') {
    r.dst_offset = p.offset();
  } else {
    r.dst_offset = r.std_offset + 3600;
    if (r.dst_offset > kMaxOffset) p.fail("offset out of range");
  }
  if (p.at_end()) { // the US rule, as tzcode's default
    r.start = {When::kMonthWeekDay, 3, 2, 0, 0, 2 * 3600};
    r.end = {When::kMonthWeekDay, 11, 1, 0, 0, 2 * 3600};
    return r;
  }
  if (!p.take(',')) p.fail("',' expected before the DST rule");
  r.start = p.when();
  if (!p.take(',')) p.fail("',' expected before the end of DST");
  r.end = p.when();
  if (!p.at_end()) p.fail("unexpected text after the DST rule");
  return r;
}

void TimeZone::Rule::changes_in(int y, std::int64_t& dst_start, std::int64_t& dst_end,
                                bool& always) const {
  dst_start = local_day(start, y) * kDay + start.time - std_offset;
  dst_end = local_day(end, y) * kDay + end.time - dst_offset;
  const std::int64_t year = (days_from_civil(y + 1, 1, 1) - days_from_civil(y, 1, 1)) * kDay;
  always = dst_end - dst_start >= year;
}

int TimeZone::Rule::changes_around(int y, Change (&out)[6]) const {
  int n = 0;
  for (int year = y - 1; year <= y + 1; ++year) {
    std::int64_t s = 0, e = 0;
    bool always = false;
    changes_in(year, s, e, always);
    if (always) return -1; // the same rule every year: DST all year
    for (const Change c : {Change{s, true}, Change{e, false}}) {
      int k = n++;
      for (; k > 0 && out[k - 1].at > c.at; --k) out[k] = out[k - 1];
      out[k] = c;
    }
  }
  return n;
}

namespace {

/// `utc` moved by whole 400-year periods into [1970, 2370).
std::int64_t in_first_period(std::int64_t utc) {
  const std::int64_t r = utc % kPeriod;
  return r < 0 ? r + kPeriod : r;
}

int year_of(std::int64_t utc) { return civil_from_days(floor_div(utc, kDay)).y; }

} // namespace

int TimeZone::Rule::offset_at(std::int64_t utc) const {
  if (!has_dst) return std_offset;
  const std::int64_t t = in_first_period(utc);
  Change changes[6];
  const int n = changes_around(year_of(t), changes);
  if (n < 0) return dst_offset;
  bool dst = false;
  for (int k = 0; k < n && changes[k].at <= t; ++k) dst = changes[k].dst;
  return dst ? dst_offset : std_offset;
}

std::int64_t TimeZone::Rule::next_change_after(std::int64_t utc) const {
  if (!has_dst || std_offset == dst_offset) return kNever;
  const std::int64_t t = in_first_period(utc);
  Change changes[6];
  const int n = changes_around(year_of(t), changes);
  if (n < 0) return kNever;
  bool dst = false;
  int k = 0;
  for (; k < n && changes[k].at <= t; ++k) dst = changes[k].dst;
  for (; k < n; ++k) {
    if (changes[k].dst == dst) continue;
    const std::int64_t ahead = changes[k].at - t;
    return utc > kNever - ahead ? kNever : utc + ahead; // ahead > 0
  }
  return kNever;
}

} // namespace hours

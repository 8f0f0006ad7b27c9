#include "sim/market_history.hpp"

#include <algorithm>
#include <array>

namespace sim {
namespace {

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

/// Day number of the n-th Sunday (n >= 1) of a month.
std::int64_t nth_sunday(std::int64_t y, unsigned m, int n) {
  const std::int64_t first = days_from_civil(y, m, 1);
  // 1970-01-01 was a Thursday: weekday 0 = Sunday.
  const std::int64_t weekday = ((first % 7) + 7 + 4) % 7;
  return first + (7 - weekday) % 7 + 7 * (n - 1);
}

struct UsZone {
  std::int64_t standard_offset; // seconds east of UTC
};

/// Whether US daylight time is in effect at UTC second `t` for a zone with
/// that standard offset: from the second Sunday of March, 02:00 local
/// standard time, to the first Sunday of November, 02:00 local daylight time.
bool us_daylight(std::int64_t t, std::int64_t standard_offset, std::int64_t year) {
  const std::int64_t begin = nth_sunday(year, 3, 2) * 86400 + 2 * 3600 - standard_offset;
  const std::int64_t end = nth_sunday(year, 11, 1) * 86400 + 2 * 3600 - (standard_offset + 3600);
  return t >= begin && t < end;
}

bool digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int number(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

std::optional<tws::HistoricalTick> midpoint_of(const MarketEvent& ev) {
  if (!ev.mid) return std::nullopt;
  return tws::HistoricalTick{ev.mid->time, ev.mid->mid_point, 0.0};
}

std::optional<HistoryTick> tick_of(const MarketEvent& ev, const HistoryQuery& q) {
  switch (q.what) {
  case WhatToShow::trades:
    if (!ev.trade) return std::nullopt;
    return tws::HistoricalTickLast{
        ev.trade->time, ev.trade->past_limit, ev.trade->unreported,        ev.trade->price,
        ev.trade->size, ev.trade->exchange,   ev.trade->special_conditions};
  case WhatToShow::bid_ask:
    if (!ev.quote || (q.ignore_size && !ev.quote_price_changed)) return std::nullopt;
    return tws::HistoricalTickBidAsk{
        ev.quote->time,      ev.quote->ask_past_high, ev.quote->bid_past_low, ev.quote->bid_price,
        ev.quote->ask_price, ev.quote->bid_size,      ev.quote->ask_size};
  case WhatToShow::midpoint:
    if (auto m = midpoint_of(ev)) return HistoryTick{*m};
    return std::nullopt;
  }
  return std::nullopt;
}

/// The ticks of events [first, end) of the timeline.
std::vector<HistoryTick> ticks_between(MarketArchive& archive, const CatalogEntry& entry,
                                       const EventClock& clock, std::uint64_t first,
                                       std::uint64_t end, const HistoryQuery& q) {
  std::vector<HistoryTick> out;
  Market m = archive.at(entry, first);
  while (m.next_index() < end) {
    const std::int64_t time = clock.unix_time(m.next_index());
    const MarketEvent ev = m.next(time);
    if (q.open && !q.open(time)) continue;
    if (auto t = tick_of(ev, q)) out.push_back(std::move(*t));
  }
  return out;
}

} // namespace

std::optional<WhatToShow> parse_what_to_show(std::string_view text) {
  if (text == "TRADES") return WhatToShow::trades;
  if (text == "BID_ASK") return WhatToShow::bid_ask;
  if (text == "MIDPOINT") return WhatToShow::midpoint;
  return std::nullopt;
}

std::variant<std::int64_t, std::string> parse_ib_datetime(std::string_view text) {
  // yyyymmdd-hh:mm:ss | yyyymmdd hh:mm:ss <zone>
  const std::string shape =
      "'" + std::string(text) + "' is not 'yyyymmdd-hh:mm:ss' (UTC) or 'yyyymmdd hh:mm:ss <zone>'";
  if (text.size() < 17) return shape;
  const std::string_view date = text.substr(0, 8);
  const char sep = text[8];
  const std::string_view clock = text.substr(9, 8);
  if (!digits(date) || (sep != '-' && sep != ' ') || clock[2] != ':' || clock[5] != ':' ||
      !digits(clock.substr(0, 2)) || !digits(clock.substr(3, 2)) || !digits(clock.substr(6, 2)))
    return shape;
  std::string_view zone;
  if (sep == '-') {
    if (text.size() != 17) return shape;
    zone = "UTC";
  } else {
    if (text.size() < 19 || text[17] != ' ') {
      return "'" + std::string(text) +
             "' has no time zone: add ' UTC' or an exchange zone such as ' US/Eastern'";
    }
    zone = text.substr(18);
  }
  const int y = number(date.substr(0, 4));
  const auto mo = static_cast<unsigned>(number(date.substr(4, 2)));
  const auto d = static_cast<unsigned>(number(date.substr(6, 2)));
  const int hh = number(clock.substr(0, 2));
  const int mm = number(clock.substr(3, 2));
  const int ss = number(clock.substr(6, 2));
  static constexpr std::array<unsigned, 12> kDays = {31, 29, 31, 30, 31, 30,
                                                     31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] || (mo == 2 && d == 29 && !leap))
    return "'" + std::string(text) + "' is not a valid date";
  if (hh > 23 || mm > 59 || ss > 59) return "'" + std::string(text) + "' is not a valid time";
  const std::int64_t local = days_from_civil(y, mo, d) * 86400 + hh * 3600 + mm * 60 + ss;
  if (zone == "UTC" || zone == "GMT" || zone == "Etc/UTC") return local;
  std::int64_t standard = 0;
  if (zone == "US/Eastern" || zone == "America/New_York") standard = -5 * 3600;
  else if (zone == "US/Central" || zone == "America/Chicago") standard = -6 * 3600;
  else {
    return "unknown time zone '" + std::string(zone) +
           "' (known: UTC, GMT, US/Eastern, America/New_York, US/Central, America/Chicago)";
  }
  // Daylight time first: local = utc + standard + 1 h.
  const std::int64_t as_daylight = local - standard - 3600;
  if (us_daylight(as_daylight, standard, y)) return as_daylight;
  return local - standard;
}

std::int64_t time_of(const HistoryTick& t) {
  return std::visit([](const auto& x) { return x.time; }, t);
}

std::uint64_t first_event_at(const EventClock& clock, std::uint64_t end, std::int64_t unix_time) {
  std::uint64_t lo = 0;
  std::uint64_t hi = end;
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    if (clock.unix_time(mid) >= unix_time) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

std::vector<HistoryTick> collect_history(MarketArchive& archive, const CatalogEntry& entry,
                                         const MarketTimeline& tl, const HistoryQuery& q) {
  const std::uint64_t count = std::max<std::uint64_t>(1, q.count);
  std::vector<HistoryTick> out;
  if (q.from_start) {
    Market m = archive.at(entry, first_event_at(tl.clock, tl.end, q.time));
    while (m.next_index() < tl.end) {
      const std::int64_t time = tl.clock.unix_time(m.next_index());
      const MarketEvent ev = m.next(time);
      if (q.open && !q.open(time)) continue;
      auto t = tick_of(ev, q);
      if (!t) continue;
      // Past `count`, only the rest of the last second reached.
      if (out.size() >= count && time_of(*t) != time_of(out.back())) break;
      out.push_back(std::move(*t));
    }
    return out;
  }
  const std::uint64_t end = first_event_at(tl.clock, tl.end, q.time + 1);
  if (end == 0) return out;
  // Walk back in growing steps, each starting at the first event of a
  // second, until `count` ticks (or the market's start) are covered.
  std::uint64_t back = std::max<std::uint64_t>(256, count * 4);
  for (;;) {
    const std::uint64_t guess = end > back ? end - back : 0;
    const std::uint64_t first =
        guess == 0 ? 0 : first_event_at(tl.clock, end, tl.clock.unix_time(guess));
    out = ticks_between(archive, entry, tl.clock, first, end, q);
    if (out.size() >= count || first == 0) break;
    back *= 4;
  }
  std::size_t keep_from = out.size() > count ? out.size() - count : 0;
  while (keep_from > 0 && time_of(out[keep_from - 1]) == time_of(out[keep_from])) --keep_from;
  out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(keep_from));
  return out;
}

} // namespace sim

// libFuzzer target: time zone files and IB trading hours strings as a
// broken tzdata install or a hostile TWS could send them.
//
// Input layout: byte 0 picks what the rest is. Even: TZif bytes for
// TimeZone::from_tzif; a zone that loads must give offsets within 25 hours
// at instants taken from the input, local times to UTC within reach of
// them, and parse a fixed hours string into sorted sessions. Odd: an hours
// string for parse_hours in a zone with a table and a DST footer rule; a
// schedule that parses must hold sorted, non-empty, non-overlapping
// sessions, and status_at must agree with them at and around every boundary.
//
// Feeds: TZif bytes and trading hours: TimeZone::from_tzif, offset_at, to_utc, parse_hours,
// status_at
//
// Build: cmake -DIBS_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++; run: scripts/fuzz.sh.
#include "../unit/hours/tzif_builder.hpp"
#include "fuzz_support.hpp"
#include "hours/time_zone.hpp"
#include "hours/trading_hours.hpp"

#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace {

using fuzz::check;
using hours::TimeZone;

constexpr std::int64_t kReach = 25 * 3600;

const TimeZone& chicago_like() {
  static const auto zone = [] {
    hours_test::TzifSpec spec;
    spec.times = {-2717647200, 1741507200, 1762066800}; // 1883, 2025-03-09, 2025-11-02
    spec.type_of = {1, 2, 1};
    spec.offsets = {-21036, -6 * 3600, -5 * 3600};
    spec.footer = "CST6CDT,M3.2.0,M11.1.0";
    return TimeZone::from_tzif("chicago_like", hours_test::build_tzif(spec));
  }();
  return *zone;
}

void check_schedule(const hours::Schedule& s) {
  for (std::size_t i = 0; i < s.sessions.size(); ++i) {
    check(s.sessions[i].open < s.sessions[i].close);
    if (i > 0) check(s.sessions[i - 1].close <= s.sessions[i].open);
  }
  for (const auto& session : s.sessions) {
    for (const std::int64_t t :
         {session.open - 1, session.open, session.close - 1, session.close}) {
      const hours::Status st = hours::status_at(s, t);
      if (!st.known) {
        check(st.open && !st.session && !st.next_open && !st.next_close);
        continue;
      }
      check(st.open == st.session.has_value());
      if (st.session) check(st.session->open <= t && t < st.session->close);
      if (st.next_open) check(*st.next_open > t);
      if (st.next_close) check(*st.next_close > t);
    }
  }
}

void exercise_zone(const TimeZone& zone, std::string_view input) {
  std::int64_t instants[4] = {0, 1793512800, -2208988800, 4108690800};
  if (input.size() >= sizeof instants) {
    std::memcpy(instants, input.data() + input.size() - sizeof instants, sizeof instants);
  }
  for (const std::int64_t t : instants) {
    const int offset = zone.offset_at(t);
    check(offset >= -kReach && offset <= kReach);
    const std::int64_t local = t / 2; // any local time, away from the int64 limits
    const std::int64_t u = zone.to_utc(local);
    check(u - local >= -2 * kReach && u - local <= 2 * kReach);
  }
  try {
    check_schedule(hours::parse_hours(
        "20260823:1700-20260824:1600;20260308:0200-0300;20261101:0100-0200,2300-0100", zone));
  } catch (const std::invalid_argument&) {
    check(false); // a valid string never fails, whatever the zone
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest = fuzz::as_text(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    std::shared_ptr<const TimeZone> zone;
    try {
      zone = TimeZone::from_tzif("fuzz", rest);
    } catch (const std::invalid_argument&) {
      return 0;
    }
    exercise_zone(*zone, rest);
    return 0;
  }
  try {
    check_schedule(hours::parse_hours(rest, chicago_like()));
  } catch (const std::invalid_argument&) {
  }
  return 0;
}

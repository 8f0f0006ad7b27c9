// TimeZone: the system's tzdata files, the POSIX footer rule beyond the
// table, local time to UTC at DST changes, IB's abbreviations, name checks
// and hostile TZif bytes.
#include "hours/time_zone.hpp"
#include "tzif_builder.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <thread>
#include <unistd.h>

namespace {

using hours::TimeZone;
using hours_test::build_tzif;
using hours_test::TzifSpec;

constexpr int kHour = 3600;

std::int64_t utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0) {
  return hours::days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60;
}
// Local civil time (seconds since 1970-01-01 00:00 local): the same arithmetic.
std::int64_t local(int y, unsigned m, unsigned d, int hh = 0, int mm = 0) {
  return utc(y, m, d, hh, mm);
}

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

TEST(TimeZoneCivil, DaysAndBack) {
  EXPECT_EQ(hours::days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(utc(2026, 3, 8, 7), 1772953200);
  EXPECT_EQ(utc(2000, 2, 29), 951782400);
  const auto back = hours::civil_from_days(hours::days_from_civil(2100, 2, 28) + 1);
  EXPECT_EQ(back.y, 2100);
  EXPECT_EQ(back.m, 3u); // 2100 is not a leap year
  EXPECT_EQ(back.d, 1u);
}

TEST(TimeZone, UsEasternAroundBothChangesOf2026) {
  const auto z = TimeZone::load("US/Eastern");
  EXPECT_EQ(z->name(), "US/Eastern");
  // 2026-03-08 02:00 EST = 07:00 UTC; 2026-11-01 02:00 EDT = 06:00 UTC.
  EXPECT_EQ(z->offset_at(1772953200 - 1), -5 * kHour);
  EXPECT_EQ(z->offset_at(1772953200), -4 * kHour);
  EXPECT_EQ(z->offset_at(1793512800 - 1), -4 * kHour);
  EXPECT_EQ(z->offset_at(1793512800), -5 * kHour);
  EXPECT_EQ(z->to_utc(local(2026, 1, 15, 9, 30)), utc(2026, 1, 15, 14, 30));
  EXPECT_EQ(z->to_utc(local(2026, 7, 15, 9, 30)), utc(2026, 7, 15, 13, 30));
}

TEST(TimeZone, UsCentralAroundBothChangesOf2026) {
  const auto z = TimeZone::load("US/Central");
  EXPECT_EQ(z->offset_at(1772956800 - 1), -6 * kHour); // 2026-03-08 08:00 UTC
  EXPECT_EQ(z->offset_at(1772956800), -5 * kHour);
  EXPECT_EQ(z->offset_at(1793516400 - 1), -5 * kHour); // 2026-11-01 07:00 UTC
  EXPECT_EQ(z->offset_at(1793516400), -6 * kHour);
}

TEST(TimeZone, SkippedLocalTimeMovesForwardByTheGap) {
  const auto z = TimeZone::load("US/Eastern");
  EXPECT_EQ(z->to_utc(local(2026, 3, 8, 1, 59)), 1772953200 - 60);
  EXPECT_EQ(z->to_utc(local(2026, 3, 8, 2, 0)), 1772953200);         // = 03:00 EDT
  EXPECT_EQ(z->to_utc(local(2026, 3, 8, 2, 30)), 1772953200 + 1800); // = 03:30 EDT
  EXPECT_EQ(z->to_utc(local(2026, 3, 8, 3, 0)), 1772953200);
  EXPECT_EQ(z->to_utc(local(2026, 3, 8, 3, 30)), 1772953200 + 1800);
}

TEST(TimeZone, RepeatedLocalTimeGivesTheFirst) {
  const auto z = TimeZone::load("US/Eastern");
  EXPECT_EQ(z->to_utc(local(2026, 11, 1, 0, 59)), 1793512800 - 3660);
  EXPECT_EQ(z->to_utc(local(2026, 11, 1, 1, 0)), 1793512800 - 3600);  // 01:00 EDT
  EXPECT_EQ(z->to_utc(local(2026, 11, 1, 1, 30)), 1793512800 - 1800); // 01:30 EDT
  EXPECT_EQ(z->to_utc(local(2026, 11, 1, 1, 59)), 1793512800 - 60);
  EXPECT_EQ(z->to_utc(local(2026, 11, 1, 2, 0)), 1793512800 + 3600); // 02:00 EST
}

TEST(TimeZone, YearsPastTheTableFollowTheFooterRule) {
  const auto z = TimeZone::load("US/Eastern");
  // 2040-03-11 07:00 UTC and 2040-11-04 06:00 UTC.
  EXPECT_EQ(z->offset_at(2215062000 - 1), -5 * kHour);
  EXPECT_EQ(z->offset_at(2215062000), -4 * kHour);
  EXPECT_EQ(z->offset_at(2235621600 - 1), -4 * kHour);
  EXPECT_EQ(z->offset_at(2235621600), -5 * kHour);
  // 2100-03-14 07:00 UTC and 2100-11-07 06:00 UTC.
  EXPECT_EQ(z->offset_at(4108690800 - 1), -5 * kHour);
  EXPECT_EQ(z->offset_at(4108690800), -4 * kHour);
  EXPECT_EQ(z->offset_at(4129250400 - 1), -4 * kHour);
  EXPECT_EQ(z->offset_at(4129250400), -5 * kHour);
  EXPECT_EQ(z->to_utc(local(2100, 3, 14, 2, 30)), 4108690800 + 1800);
  EXPECT_EQ(z->to_utc(local(2100, 11, 7, 1, 30)), 4129250400 - 1800);
  // 400 years on, the calendar (and so the rule) repeats.
  EXPECT_EQ(z->offset_at(utc(2440, 3, 11, 7) - 1), -5 * kHour); // as 2040: 2nd Sunday the 11th
  EXPECT_EQ(z->offset_at(utc(2440, 3, 11, 7)), -4 * kHour);
}

TEST(TimeZone, EuropeLondon) {
  const auto z = TimeZone::load("Europe/London");
  EXPECT_EQ(z->offset_at(utc(2026, 1, 15)), 0);
  EXPECT_EQ(z->offset_at(1774746000 - 1), 0); // 2026-03-29 01:00 UTC
  EXPECT_EQ(z->offset_at(1774746000), kHour);
  EXPECT_EQ(z->offset_at(1792890000 - 1), kHour); // 2026-10-25 01:00 UTC
  EXPECT_EQ(z->offset_at(1792890000), 0);
  EXPECT_EQ(z->to_utc(local(2026, 7, 1, 8)), utc(2026, 7, 1, 7));
}

TEST(TimeZone, AsiaTokyoHasNoDst) {
  const auto z = TimeZone::load("Asia/Tokyo");
  for (const auto t : {utc(2026, 1, 15), utc(2026, 7, 1), utc(2100, 7, 1)}) {
    EXPECT_EQ(z->offset_at(t), 9 * kHour);
  }
  EXPECT_EQ(z->to_utc(local(2026, 7, 1, 9)), utc(2026, 7, 1, 0));
}

TEST(TimeZone, Utc) {
  const auto z = TimeZone::load("UTC");
  EXPECT_EQ(z->offset_at(utc(2026, 7, 1)), 0);
  EXPECT_EQ(z->offset_at(utc(2200, 1, 1)), 0);
  EXPECT_EQ(z->to_utc(local(2026, 7, 1, 12)), utc(2026, 7, 1, 12));
}

TEST(TimeZone, IbAbbreviationsNameTheirZone) {
  // tzdata's own EST is a fixed -5: IB's EST means New York time, DST included.
  const auto est = TimeZone::load("EST");
  EXPECT_EQ(est->name(), "US/Eastern");
  EXPECT_EQ(est->offset_at(utc(2026, 7, 1)), -4 * kHour);
  EXPECT_EQ(est->offset_at(utc(2026, 1, 15)), -5 * kHour);
  EXPECT_EQ(TimeZone::load("EST"), est);        // cached
  EXPECT_EQ(TimeZone::load("US/Eastern"), est); // one zone under both names
  EXPECT_EQ(TimeZone::load("CST")->offset_at(utc(2026, 7, 1)), -5 * kHour);
  EXPECT_EQ(TimeZone::load("GMT")->name(), "UTC");
  EXPECT_EQ(TimeZone::load("JST")->offset_at(utc(2026, 7, 1)), 9 * kHour);
  EXPECT_EQ(TimeZone::load("MET")->offset_at(utc(2026, 7, 1)), 2 * kHour);
}

TEST(TimeZone, UnknownZoneIsAnError) {
  EXPECT_EQ(error_of([] { TimeZone::load("Mars/Olympus_Mons"); }),
            "unknown time zone 'Mars/Olympus_Mons'");
  EXPECT_EQ(error_of([] { TimeZone::load("America"); }), "unknown time zone 'America'");
}

TEST(TimeZone, NamesOutsideTheZoneDirectoryAreRefused) {
  for (const char* name : {"../../etc/passwd", "US/../../etc/passwd", "/etc/localtime",
                           "US/Eastern\n", "US Eastern", "US/Eastern;ls", "", "US\\Eastern"}) {
    EXPECT_EQ(error_of([&] { TimeZone::load(name); }),
              "invalid time zone name '" + std::string(name) + "'");
  }
}

TEST(TimeZone, TzdirNamesTheZoneDirectory) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("ibs_hours_tzdir_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "Test");
  TzifSpec spec;
  spec.offsets = {3 * kHour + 1800};
  spec.footer = "<+0330>-3:30";
  std::ofstream(dir / "Test" / "Half_Hour", std::ios::binary) << build_tzif(spec);
  const char* old = std::getenv("TZDIR");
  const std::string saved = old ? old : "";
  ::setenv("TZDIR", dir.c_str(), 1);
  const auto z = TimeZone::load("Test/Half_Hour");
  if (old) {
    ::setenv("TZDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TZDIR");
  }
  std::filesystem::remove_all(dir);
  EXPECT_EQ(z->name(), "Test/Half_Hour");
  EXPECT_EQ(z->offset_at(utc(2026, 7, 1)), 3 * kHour + 1800);
}

TEST(TimeZone, LoadFromManyThreadsGivesOneZone) {
  std::vector<std::shared_ptr<const TimeZone>> got(8);
  std::vector<std::thread> threads;
  for (auto& g : got) threads.emplace_back([&g] { g = TimeZone::load("Europe/Paris"); });
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, got[0]);
}

TEST(TimeZoneFooter, NorthernAndSouthernRules) {
  TzifSpec cet;
  cet.offsets = {kHour};
  cet.footer = "CET-1CEST,M3.5.0,M10.5.0/3";
  const auto paris = TimeZone::from_tzif("cet", build_tzif(cet));
  EXPECT_EQ(paris->offset_at(1774746000 - 1), kHour); // 2026-03-29 01:00 UTC
  EXPECT_EQ(paris->offset_at(1774746000), 2 * kHour);
  EXPECT_EQ(paris->offset_at(1792890000 - 1), 2 * kHour); // 2026-10-25 01:00 UTC
  EXPECT_EQ(paris->offset_at(1792890000), kHour);

  TzifSpec aest;
  aest.offsets = {10 * kHour};
  aest.footer = "AEST-10AEDT,M10.1.0,M4.1.0/3";
  const auto sydney = TimeZone::from_tzif("aest", build_tzif(aest));
  EXPECT_EQ(sydney->offset_at(utc(2026, 1, 15)), 11 * kHour);
  EXPECT_EQ(sydney->offset_at(utc(2026, 4, 4, 16) - 1), 11 * kHour); // 03:00 AEDT Apr 5
  EXPECT_EQ(sydney->offset_at(utc(2026, 4, 4, 16)), 10 * kHour);
  EXPECT_EQ(sydney->offset_at(utc(2026, 10, 3, 16) - 1), 10 * kHour); // 02:00 AEST Oct 4
  EXPECT_EQ(sydney->offset_at(utc(2026, 10, 3, 16)), 11 * kHour);
  EXPECT_EQ(sydney->offset_at(utc(2026, 12, 31, 23)), 11 * kHour);
  // 02:30 on 2026-10-04 does not exist there; 02:30 on 2026-04-05 twice.
  EXPECT_EQ(sydney->to_utc(local(2026, 10, 4, 2, 30)), utc(2026, 10, 3, 16, 30));
  EXPECT_EQ(sydney->to_utc(local(2026, 4, 5, 2, 30)), utc(2026, 4, 4, 15, 30));

  TzifSpec fixed;
  fixed.offsets = {10 * kHour};
  fixed.footer = "<+10>-10";
  const auto port_moresby = TimeZone::from_tzif("+10", build_tzif(fixed));
  EXPECT_EQ(port_moresby->offset_at(utc(2126, 7, 1)), 10 * kHour);
}

TEST(TimeZoneFooter, JulianDaysAndPermanentDst) {
  TzifSpec julian;
  julian.offsets = {0};
  julian.footer = "AAA0BBB,J60/0,300/0"; // Mar 1 (Feb 29 never counted), day 300 from 0
  const auto z = TimeZone::from_tzif("julian", build_tzif(julian));
  EXPECT_EQ(z->offset_at(utc(2028, 3, 1) - 1), 0); // 2028 is a leap year
  EXPECT_EQ(z->offset_at(utc(2028, 3, 1)), kHour);
  // Day 300 of a leap year is Oct 27; 00:00 there in DST is 23:00 UTC the day before.
  EXPECT_EQ(z->offset_at(utc(2028, 10, 26, 23) - 1), kHour);
  EXPECT_EQ(z->offset_at(utc(2028, 10, 26, 23)), 0);

  TzifSpec always;
  always.offsets = {-3 * kHour};
  always.footer = "<-03>3<-02>,0/0,J365/25";
  const auto p = TimeZone::from_tzif("always", build_tzif(always));
  for (const auto t :
       {utc(2026, 1, 1), utc(2026, 1, 1, 2), utc(2026, 7, 1), utc(2026, 12, 31, 23)}) {
    EXPECT_EQ(p->offset_at(t), -2 * kHour);
  }
}

TEST(TimeZoneTzif, VersionOneAndTableThenFooter) {
  TzifSpec v1;
  v1.version = '\0';
  v1.times = {1000, 2000};
  v1.type_of = {1, 0};
  v1.offsets = {0, kHour};
  const auto z = TimeZone::from_tzif("v1", build_tzif(v1));
  EXPECT_EQ(z->offset_at(999), 0);
  EXPECT_EQ(z->offset_at(1000), kHour);
  EXPECT_EQ(z->offset_at(2000), 0);
  EXPECT_EQ(z->offset_at(utc(2100, 1, 1)), 0);

  TzifSpec v3 = v1; // before the last transition the table, then the footer
  v3.version = '3';
  v3.footer = "EST5EDT,M3.2.0,M11.1.0";
  const auto y = TimeZone::from_tzif("v3", build_tzif(v3));
  EXPECT_EQ(y->offset_at(1500), kHour);
  EXPECT_EQ(y->offset_at(utc(2026, 7, 1)), -4 * kHour);
}

TEST(TimeZoneTzif, MalformedBytesThrow) {
  TzifSpec good;
  good.times = {1000};
  good.type_of = {0};
  good.offsets = {0};
  good.footer = "UTC0";
  auto bad = [&](auto change) {
    TzifSpec s = good;
    change(s);
    return error_of([&] { TimeZone::from_tzif("Bad/Zone", build_tzif(s)); });
  };
  EXPECT_EQ(bad([](TzifSpec& s) { s.type_of = {1}; }),
            "time zone 'Bad/Zone': bad TZif data: transition to a type that does not exist");
  EXPECT_EQ(bad([](TzifSpec& s) { s.offsets = {90000}; }),
            "time zone 'Bad/Zone': bad TZif data: UTC offset out of range");
  EXPECT_EQ(bad([](TzifSpec& s) {
              s.times = {2000, 1000};
              s.type_of = {0, 0};
            }),
            "time zone 'Bad/Zone': bad TZif data: transition times not ascending");
  EXPECT_NE(bad([](TzifSpec& s) { s.footer = "EST5EDT,M13.2.0,M11.1.0"; }).find("bad TZ string"),
            std::string::npos);
  EXPECT_NE(bad([](TzifSpec& s) { s.footer = "E5"; }).find("bad TZ string"), std::string::npos);
  EXPECT_EQ(bad([](TzifSpec& s) { s.offsets.clear(); }),
            "time zone 'Bad/Zone': bad TZif data: no local time types");
  EXPECT_EQ(error_of([] { TimeZone::from_tzif("x", "TZjf2"); }),
            "time zone 'x': bad TZif data: no TZif magic");
  EXPECT_EQ(error_of([] { TimeZone::from_tzif("x", ""); }),
            "time zone 'x': bad TZif data: truncated");
}

TEST(TimeZoneTzif, TruncatedOrGarbledFilesThrowOrLoadButNeverCrash) {
  std::ifstream in("/usr/share/zoneinfo/America/New_York", std::ios::binary);
  const std::string file{std::istreambuf_iterator<char>(in), {}};
  ASSERT_GT(file.size(), 1000u);
  int thrown = 0;
  for (std::size_t n = 0; n < file.size(); ++n) {
    try {
      const auto z = TimeZone::from_tzif("prefix", std::string_view(file).substr(0, n));
      z->to_utc(z->offset_at(utc(2026, 7, 1)));
    } catch (const std::invalid_argument&) {
      ++thrown;
    }
  }
  EXPECT_GE(thrown, static_cast<int>(file.size()) - 2); // all but the cuts at the footer
  std::mt19937 rng(20261204);
  for (int i = 0; i < 3000; ++i) {
    std::string garbled = file;
    for (int k = 0; k < 4; ++k) garbled[rng() % garbled.size()] = static_cast<char>(rng());
    try {
      const auto z = TimeZone::from_tzif("garbled", garbled);
      const std::int64_t t = static_cast<std::int64_t>(rng()) << 20;
      EXPECT_LE(std::abs(z->offset_at(t)), 25 * kHour);
      z->to_utc(t);
    } catch (const std::invalid_argument&) {
    }
  }
}

} // namespace

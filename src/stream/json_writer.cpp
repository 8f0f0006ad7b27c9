#include "stream/json_writer.hpp"

#include "stream/json_text.hpp"
#include "tws/wire.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace stream {
namespace {

/// The same text as gmtime_r + "%04d-%02d-%02d %02d:%02d:%02d", for years
/// 0000..9999 (other times take that slow path). Pure arithmetic: days to
/// civil date as in H. Hinnant's "chrono-Compatible Low-Level Date
/// Algorithms" (proleptic Gregorian, like glibc).
constexpr std::int64_t kMinFastUtc = -62167219200; // 0000-01-01 00:00:00
constexpr std::int64_t kMaxFastUtc = 253402300799; // 9999-12-31 23:59:59
constexpr std::size_t kMaxUtcChars = 64;

void put2(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

char* write_utc(char* p, std::int64_t unix_time) {
  if (unix_time < kMinFastUtc || unix_time > kMaxFastUtc) {
    const auto t = static_cast<std::time_t>(unix_time);
    std::tm tm{};
    gmtime_r(&t, &tm);
    const int n = std::snprintf(p, kMaxUtcChars, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900,
                                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return p + std::min<std::size_t>(static_cast<std::size_t>(n), kMaxUtcChars - 1);
  }
  // Count days from -0400-03-01 (a 400-year era before 0000-03-01), so every
  // quantity below is non-negative.
  constexpr std::int64_t kShift = (719468 + 146097) * 86400LL;
  const auto shifted = static_cast<std::uint64_t>(unix_time + kShift);
  const std::uint64_t days = shifted / 86400;
  const auto sod = static_cast<unsigned>(shifted % 86400);
  const std::uint64_t era = days / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);                // [0, 146096]
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; // [0, 399]
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               // [0, 365]
  const unsigned mp = (5 * doy + 2) / 153;                                    // [0, 11]
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  const auto year = static_cast<unsigned>(era * 400 + yoe + (month <= 2 ? 1 : 0) - 400);
  put2(p, year / 100);
  put2(p + 2, year % 100);
  p[4] = '-';
  put2(p + 5, month);
  p[7] = '-';
  put2(p + 8, day);
  p[10] = ' ';
  put2(p + 11, sod / 3600);
  p[13] = ':';
  put2(p + 14, sod / 60 % 60);
  p[16] = ':';
  put2(p + 17, sod % 60);
  return p + 19;
}

} // namespace

char* write_utc_text(char* p, std::int64_t unix_time) { return write_utc(p, unix_time); }

void JsonWriter::escaped_string(std::string_view v) {
  flush();
  append_json_utf8(out_, v);
}

void JsonWriter::make_room() { flush(); }

} // namespace stream

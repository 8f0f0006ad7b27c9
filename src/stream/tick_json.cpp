#include "stream/tick_json.hpp"

#include "stream/json_text.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
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

/// Printable ASCII without quote or backslash: copied into JSON as is.
bool is_plain_json_text(std::string_view s) {
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u >= 0x7F || ch == '"' || ch == '\\') return false;
  }
  return true;
}

/// Builds JSON text in a stack buffer and appends it to `out` in a few large
/// pieces instead of many small std::string appends.
class JsonOut {
public:
  explicit JsonOut(std::string& out) : out_(out) {}
  JsonOut(const JsonOut&) = delete;
  JsonOut& operator=(const JsonOut&) = delete;

  template <std::size_t N> void lit(const char (&s)[N]) {
    static_assert(N - 1 <= kSize);
    room(N - 1);
    std::memcpy(p_, s, N - 1);
    p_ += N - 1;
  }
  void text(std::string_view s) { // trusted JSON text
    if (s.size() > kSize) {
      flush();
      out_.append(s);
      return;
    }
    room(s.size());
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void integer(std::int64_t v) {
    room(24);
    p_ = std::to_chars(p_, p_ + 24, v).ptr;
  }
  void number(double v) {
    if (!std::isfinite(v)) return lit("null");
    room(tws::kMaxNumberChars);
    p_ = tws::write_number(p_, v);
  }
  void decimal(const tws::Decimal& d) {
    if (d) number(*d);
    else lit("null");
  }
  void boolean(bool b) {
    if (b) lit("true");
    else lit("false");
  }
  void utc(std::int64_t unix_time) {
    room(kMaxUtcChars);
    p_ = write_utc(p_, unix_time);
  }
  void string(std::string_view s) {
    if (s.size() <= 64 && is_plain_json_text(s)) {
      room(s.size() + 2);
      *p_++ = '"';
      std::memcpy(p_, s.data(), s.size());
      p_ += s.size();
      *p_++ = '"';
      return;
    }
    flush();
    append_json_utf8(out_, s);
  }
  /// Hands what is buffered to `out`; call once at the end.
  void flush() {
    out_.append(buf_, p_);
    p_ = buf_;
  }

private:
  static constexpr std::size_t kSize = 256;
  void room(std::size_t n) {
    if (static_cast<std::size_t>(buf_ + kSize - p_) < n) flush();
  }

  std::string& out_;
  char buf_[kSize];
  char* p_ = buf_;
};

void time_fields(JsonOut& j, std::int64_t unix_time) {
  j.lit("\"timestamp\":\"");
  j.utc(unix_time);
  j.lit("\",\"unix_time\":");
  j.integer(unix_time);
}

} // namespace

std::string format_utc(std::int64_t unix_time) {
  char buf[kMaxUtcChars];
  return std::string(buf, write_utc(buf, unix_time));
}

std::string format_iso_ms(std::int64_t unix_ms) {
  const auto t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

std::string iso_now() {
  using namespace std::chrono;
  return format_iso_ms(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

void append_json_string(std::string& out, std::string_view s) {
  if (is_plain_json_text(s)) {
    out.reserve(out.size() + s.size() + 2);
    out.push_back('"');
    out.append(s);
    out.push_back('"');
    return;
  }
  append_json_utf8(out, s);
}

void append_json_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  tws::append_number(out, v);
}

void append_tick_json(std::string& out, const tws::TickByTickLast& t) {
  JsonOut j(out);
  j.lit("{\"type\":\"time_sales\",\"tick_type\":\"");
  j.text(tws::to_string(t.type));
  j.lit("\",");
  time_fields(j, t.time);
  j.lit(",\"price\":");
  j.number(t.price);
  j.lit(",\"size\":");
  j.decimal(t.size);
  j.lit(",\"exchange\":");
  j.string(t.exchange);
  j.lit(",\"conditions\":");
  j.string(t.special_conditions);
  j.lit(",\"past_limit\":");
  j.boolean(t.past_limit);
  j.lit(",\"unreported\":");
  j.boolean(t.unreported);
  j.lit("}");
  j.flush();
}

void append_tick_json(std::string& out, const tws::TickByTickBidAsk& t) {
  JsonOut j(out);
  j.lit("{\"type\":\"bid_ask\",");
  time_fields(j, t.time);
  j.lit(",\"bid_price\":");
  j.number(t.bid_price);
  j.lit(",\"ask_price\":");
  j.number(t.ask_price);
  j.lit(",\"bid_size\":");
  j.decimal(t.bid_size);
  j.lit(",\"ask_size\":");
  j.decimal(t.ask_size);
  j.lit(",\"bid_past_low\":");
  j.boolean(t.bid_past_low);
  j.lit(",\"ask_past_high\":");
  j.boolean(t.ask_past_high);
  j.lit("}");
  j.flush();
}

void append_tick_json(std::string& out, const tws::TickByTickMidPoint& t) {
  JsonOut j(out);
  j.lit("{\"type\":\"midpoint\",");
  time_fields(j, t.time);
  j.lit(",\"midpoint\":");
  j.number(t.mid_point);
  j.lit("}");
  j.flush();
}

} // namespace stream

#include "stream/tick_json.hpp"

#include "stream/json_text.hpp"
#include "stream/json_writer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace stream {
namespace {

void decimal(JsonWriter& w, const tws::Decimal& d) {
  if (d) w.number(*d);
  else w.null();
}

void time_fields(JsonWriter& w, std::int64_t unix_time) {
  w.key("timestamp").utc_time(unix_time).key("unix_time").integer(unix_time);
}

} // namespace

std::string format_utc(std::int64_t unix_time) {
  char buf[64];
  return std::string(buf, write_utc_text(buf, unix_time));
}

std::string_view format_iso_ms(char (&buf)[32], std::int64_t unix_ms) {
  const auto t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                              tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                              tm.tm_sec, static_cast<int>(unix_ms % 1000));
  return std::string_view(buf, n < 0 ? 0 : std::min<std::size_t>(n, sizeof buf - 1));
}

std::string format_iso_ms(std::int64_t unix_ms) {
  char buf[32];
  return std::string(format_iso_ms(buf, unix_ms));
}

std::string_view iso_now(char (&buf)[32]) {
  using namespace std::chrono;
  return format_iso_ms(buf,
                       duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

std::string iso_now() {
  char buf[32];
  return std::string(iso_now(buf));
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
  JsonWriter w(out);
  w.begin_object().member("type", "time_sales").member("tick_type", tws::to_string(t.type));
  time_fields(w, t.time);
  w.member("price", t.price).key("size");
  decimal(w, t.size);
  w.member("exchange", t.exchange)
      .member("conditions", t.special_conditions)
      .member("past_limit", t.past_limit)
      .member("unreported", t.unreported)
      .end_object();
}

void append_tick_json(std::string& out, const tws::TickByTickBidAsk& t) {
  JsonWriter w(out);
  w.begin_object().member("type", "bid_ask");
  time_fields(w, t.time);
  w.member("bid_price", t.bid_price).member("ask_price", t.ask_price).key("bid_size");
  decimal(w, t.bid_size);
  w.key("ask_size");
  decimal(w, t.ask_size);
  w.member("bid_past_low", t.bid_past_low).member("ask_past_high", t.ask_past_high).end_object();
}

void append_tick_json(std::string& out, const tws::TickByTickMidPoint& t) {
  JsonWriter w(out);
  w.begin_object().member("type", "midpoint");
  time_fields(w, t.time);
  w.member("midpoint", t.mid_point).end_object();
}

} // namespace stream

#include "stream/tick_json.hpp"

#include "stream/json_text.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace stream {
namespace {

void append_decimal(std::string& out, const tws::Decimal& d) {
  if (d) append_json_number(out, *d);
  else out += "null";
}

void append_bool(std::string& out, bool b) { out += b ? "true" : "false"; }

void append_time_fields(std::string& out, std::int64_t unix_time) {
  out += "\"timestamp\":\"";
  out += format_utc(unix_time);
  out += "\",\"unix_time\":";
  out += std::to_string(unix_time);
}

} // namespace

std::string format_utc(std::int64_t unix_time) {
  const auto t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
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

void append_json_string(std::string& out, std::string_view s) { append_json_utf8(out, s); }

void append_json_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  tws::append_number(out, v);
}

void append_tick_json(std::string& out, const tws::TickByTickLast& t) {
  out += "{\"type\":\"time_sales\",\"tick_type\":\"";
  out += tws::to_string(t.type);
  out += "\",";
  append_time_fields(out, t.time);
  out += ",\"price\":";
  append_json_number(out, t.price);
  out += ",\"size\":";
  append_decimal(out, t.size);
  out += ",\"exchange\":";
  append_json_string(out, t.exchange);
  out += ",\"conditions\":";
  append_json_string(out, t.special_conditions);
  out += ",\"past_limit\":";
  append_bool(out, t.past_limit);
  out += ",\"unreported\":";
  append_bool(out, t.unreported);
  out += '}';
}

void append_tick_json(std::string& out, const tws::TickByTickBidAsk& t) {
  out += "{\"type\":\"bid_ask\",";
  append_time_fields(out, t.time);
  out += ",\"bid_price\":";
  append_json_number(out, t.bid_price);
  out += ",\"ask_price\":";
  append_json_number(out, t.ask_price);
  out += ",\"bid_size\":";
  append_decimal(out, t.bid_size);
  out += ",\"ask_size\":";
  append_decimal(out, t.ask_size);
  out += ",\"bid_past_low\":";
  append_bool(out, t.bid_past_low);
  out += ",\"ask_past_high\":";
  append_bool(out, t.ask_past_high);
  out += '}';
}

void append_tick_json(std::string& out, const tws::TickByTickMidPoint& t) {
  out += "{\"type\":\"midpoint\",";
  append_time_fields(out, t.time);
  out += ",\"midpoint\":";
  append_json_number(out, t.mid_point);
  out += '}';
}

} // namespace stream

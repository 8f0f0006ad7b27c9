#include "studies/tick_event.hpp"

#include "stream/tick_json.hpp"

#include <boost/json/parse.hpp>

#include <cmath>

namespace studies {
namespace json = boost::json;

namespace {

bool number(const json::object& o, std::string_view key, double& out) {
  const auto* v = o.if_contains(key);
  if (!v) return false;
  if (v->is_double()) out = v->get_double();
  else if (v->is_int64()) out = static_cast<double>(v->get_int64());
  else if (v->is_uint64()) out = static_cast<double>(v->get_uint64());
  else return false;
  return std::isfinite(out);
}

bool integer(const json::object& o, std::string_view key, std::int64_t& out) {
  const auto* v = o.if_contains(key);
  if (!v) return false;
  if (v->is_int64()) out = v->get_int64();
  else if (v->is_uint64() && v->get_uint64() <= INT64_MAX)
    out = static_cast<std::int64_t>(v->get_uint64());
  else return false;
  return true;
}

std::string text(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

} // namespace

bool Quote::valid() const {
  return std::isfinite(bid) && std::isfinite(ask) && bid > 0.0 && ask > 0.0;
}

bool parse_tick_data(const json::value& data, TickData& out, std::string& error) {
  const auto* o = data.if_object();
  if (!o) {
    error = "tick data is not an object";
    return false;
  }
  const std::string type = text(*o, "type");
  std::int64_t unix_time = 0;
  if (type == "time_sales") {
    Trade t;
    if (!integer(*o, "unix_time", unix_time) || !number(*o, "price", t.price) ||
        !number(*o, "size", t.size)) {
      error = "time_sales tick without a numeric unix_time, price or size";
      return false;
    }
    t.unix_time = unix_time;
    t.timestamp = text(*o, "timestamp");
    t.tick_type = text(*o, "tick_type");
    out = std::move(t);
    return true;
  }
  if (type == "bid_ask") {
    Quote q;
    if (!integer(*o, "unix_time", unix_time) || !number(*o, "bid_price", q.bid) ||
        !number(*o, "ask_price", q.ask)) {
      error = "bid_ask tick without a numeric unix_time, bid_price or ask_price";
      return false;
    }
    // Sizes are informative only: a missing size is not worth a dropped quote.
    number(*o, "bid_size", q.bid_size);
    number(*o, "ask_size", q.ask_size);
    q.unix_time = unix_time;
    q.timestamp = text(*o, "timestamp");
    out = std::move(q);
    return true;
  }
  out = std::monostate{};
  return true;
}

bool parse_stream_event(std::string_view text_in, StreamEvent& out, std::string& error) {
  boost::system::error_code ec;
  json::value v = json::parse(text_in, ec);
  if (ec) {
    error = "invalid JSON: " + ec.message();
    return false;
  }
  auto* o = v.if_object();
  if (!o) {
    error = "event is not a JSON object";
    return false;
  }
  out = StreamEvent{};
  out.type = text(*o, "type");
  std::int64_t cid = 0;
  if (integer(*o, "contract_id", cid) && cid > 0 && cid <= INT32_MAX)
    out.contract_id = static_cast<int>(cid);
  out.timestamp = text(*o, "timestamp");
  if (out.type == "tick") {
    const auto* data = o->if_contains("data");
    if (!data) {
      error = "tick event without data";
      return false;
    }
    if (!parse_tick_data(*data, out.tick, error)) return false;
  }
  out.json = std::move(*o);
  return true;
}

void append_json_value(std::string& out, const json::value& v) {
  switch (v.kind()) {
  case json::kind::null: out += "null"; break;
  case json::kind::bool_: out += v.get_bool() ? "true" : "false"; break;
  case json::kind::int64: out += std::to_string(v.get_int64()); break;
  case json::kind::uint64: out += std::to_string(v.get_uint64()); break;
  case json::kind::double_: stream::append_json_number(out, v.get_double()); break;
  case json::kind::string: stream::append_json_string(out, v.get_string()); break;
  case json::kind::array: {
    out += '[';
    bool first = true;
    for (const auto& e : v.get_array()) {
      if (!first) out += ',';
      first = false;
      append_json_value(out, e);
    }
    out += ']';
    break;
  }
  case json::kind::object: {
    out += '{';
    bool first = true;
    for (const auto& kv : v.get_object()) {
      if (!first) out += ',';
      first = false;
      stream::append_json_string(out, kv.key());
      out += ':';
      append_json_value(out, kv.value());
    }
    out += '}';
    break;
  }
  }
}

std::string tick_event_line(int contract_id, std::string_view timestamp, const json::value& data) {
  std::string out =
      "{\"type\":\"tick\",\"contract_id\":" + std::to_string(contract_id) + ",\"timestamp\":";
  stream::append_json_string(out, timestamp);
  out += ",\"data\":";
  append_json_value(out, data);
  out += '}';
  return out;
}

} // namespace studies

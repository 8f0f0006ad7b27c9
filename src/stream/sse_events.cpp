#include "stream/sse_events.hpp"

#include "stream/json_writer.hpp"

#include <charconv>

namespace stream {
namespace {

void open_event(JsonWriter& w, std::string_view type, int con_id, std::string_view ts) {
  w.begin_object().member("type", type).member("contract_id", con_id).member("timestamp", ts);
}

} // namespace

ContractInfo ContractInfo::from(const tws::ContractDetails& d) {
  const auto& c = d.contract;
  return ContractInfo{c.con_id,   c.symbol,       c.sec_type,      c.exchange, c.primary_exchange,
                      c.currency, c.local_symbol, c.trading_class, d.min_tick};
}

void write_contract(JsonWriter& w, const ContractInfo& c) {
  w.begin_object()
      .member("symbol", c.symbol)
      .member("sec_type", c.sec_type)
      .member("exchange", c.exchange)
      .member("primary_exchange", c.primary_exchange)
      .member("currency", c.currency)
      .member("local_symbol", c.local_symbol)
      .member("trading_class", c.trading_class)
      .member("min_tick", c.min_tick)
      .end_object();
}

void write_error(JsonWriter& w, std::string_view code, std::string_view message,
                 std::string_view details) {
  w.begin_object()
      .member("code", code)
      .member("message", message)
      .member("details", details)
      .end_object();
}

void append_contract_json(std::string& out, const ContractInfo& c) {
  JsonWriter w(out);
  write_contract(w, c);
}

std::string tick_event_json(int con_id, std::string_view iso_timestamp,
                            std::string_view tick_json) {
  std::string out;
  out.reserve(72 + iso_timestamp.size() + tick_json.size());
  JsonWriter w(out);
  open_event(w, "tick", con_id, iso_timestamp);
  w.key("data").raw(tick_json).end_object().flush();
  return out;
}

std::string info_event_json(int con_id, std::string_view iso_timestamp, std::string_view message,
                            tws::TickType tick_type, std::string_view stream_id,
                            const ContractInfo& c, std::string_view extra_json) {
  std::string out;
  JsonWriter w(out);
  open_event(w, "info", con_id, iso_timestamp);
  w.key("info")
      .begin_object()
      .member("message", message)
      .member("tick_type", tws::to_string(tick_type))
      .member("stream_id", stream_id)
      .key("contract");
  write_contract(w, c);
  w.raw_members(extra_json).end_object().end_object().flush();
  return out;
}

std::string error_event_json(int con_id, std::string_view iso_timestamp, std::string_view code,
                             std::string_view message, std::string_view details) {
  std::string out;
  JsonWriter w(out);
  open_event(w, "error", con_id, iso_timestamp);
  w.key("error");
  write_error(w, code, message, details);
  w.end_object().flush();
  return out;
}

std::string complete_event_json(int con_id, std::string_view iso_timestamp, std::string_view reason,
                                std::uint64_t total_ticks) {
  std::string out;
  JsonWriter w(out);
  open_event(w, "complete", con_id, iso_timestamp);
  w.member("reason", reason).member("total_ticks", total_ticks).end_object().flush();
  return out;
}

std::string sse_frame(std::optional<std::uint64_t> id, std::string_view json) {
  std::string out;
  out.reserve(json.size() + 32);
  if (id) {
    char buf[24];
    out += "id: ";
    out.append(buf, std::to_chars(buf, buf + sizeof buf, *id).ptr);
    out += '\n';
  }
  out += "data: ";
  out += json;
  out += "\n\n";
  return out;
}

std::string sse_retry(int milliseconds) {
  return "retry: " + std::to_string(milliseconds) + "\n\n";
}

std::string_view sse_keepalive() { return ": keepalive\n\n"; }

} // namespace stream

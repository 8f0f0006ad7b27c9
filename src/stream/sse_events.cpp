#include "stream/sse_events.hpp"

#include "stream/tick_json.hpp"

#include <charconv>

namespace stream {
namespace {

template <class Int> void append_int(std::string& out, Int v) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

void open_event(std::string& out, std::string_view type, int con_id, std::string_view ts) {
  out += "{\"type\":\"";
  out += type;
  out += "\",\"contract_id\":";
  append_int(out, con_id);
  out += ",\"timestamp\":";
  append_json_string(out, ts);
}

void member(std::string& out, std::string_view name, std::string_view value, bool first = false) {
  if (!first) out += ',';
  append_json_string(out, name);
  out += ':';
  append_json_string(out, value);
}

} // namespace

ContractInfo ContractInfo::from(const tws::ContractDetails& d) {
  const auto& c = d.contract;
  return ContractInfo{c.con_id,   c.symbol,       c.sec_type,      c.exchange, c.primary_exchange,
                      c.currency, c.local_symbol, c.trading_class, d.min_tick};
}

void append_contract_json(std::string& out, const ContractInfo& c) {
  out += '{';
  member(out, "symbol", c.symbol, true);
  member(out, "sec_type", c.sec_type);
  member(out, "exchange", c.exchange);
  member(out, "primary_exchange", c.primary_exchange);
  member(out, "currency", c.currency);
  member(out, "local_symbol", c.local_symbol);
  member(out, "trading_class", c.trading_class);
  out += ",\"min_tick\":";
  append_json_number(out, c.min_tick);
  out += '}';
}

std::string tick_event_json(int con_id, std::string_view iso_timestamp,
                            std::string_view tick_json) {
  std::string out;
  out.reserve(72 + iso_timestamp.size() + tick_json.size());
  open_event(out, "tick", con_id, iso_timestamp);
  out += ",\"data\":";
  out += tick_json;
  out += '}';
  return out;
}

std::string info_event_json(int con_id, std::string_view iso_timestamp, std::string_view message,
                            tws::TickType tick_type, std::string_view stream_id,
                            const ContractInfo& c, std::string_view extra_json) {
  std::string out;
  open_event(out, "info", con_id, iso_timestamp);
  out += ",\"info\":{";
  member(out, "message", message, true);
  member(out, "tick_type", tws::to_string(tick_type));
  member(out, "stream_id", stream_id);
  out += ",\"contract\":";
  append_contract_json(out, c);
  if (!extra_json.empty()) {
    out += ',';
    out += extra_json;
  }
  out += "}}";
  return out;
}

std::string error_event_json(int con_id, std::string_view iso_timestamp, std::string_view code,
                             std::string_view message, std::string_view details) {
  std::string out;
  open_event(out, "error", con_id, iso_timestamp);
  out += ",\"error\":{";
  member(out, "code", code, true);
  member(out, "message", message);
  member(out, "details", details);
  out += "}}";
  return out;
}

std::string complete_event_json(int con_id, std::string_view iso_timestamp, std::string_view reason,
                                std::uint64_t total_ticks) {
  std::string out;
  open_event(out, "complete", con_id, iso_timestamp);
  member(out, "reason", reason);
  out += ",\"total_ticks\":";
  out += std::to_string(total_ticks);
  out += '}';
  return out;
}

std::string sse_frame(std::optional<std::uint64_t> id, std::string_view json) {
  std::string out;
  out.reserve(json.size() + 32);
  if (id) {
    out += "id: ";
    append_int(out, *id);
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

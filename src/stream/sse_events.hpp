// The events of a stream (api.md §3): JSON objects of type info / tick /
// error / complete, and their Server-Sent Events framing. Built once per
// event and shared by every client of a subscription.
//
// Pure functions; thread-safe.
#pragma once

#include "tws/messages.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stream {

/// The `contract` object of an `info` event.
struct ContractInfo {
  int con_id = 0;
  std::string symbol;
  std::string sec_type;
  std::string exchange;
  std::string primary_exchange;
  std::string currency;
  std::string local_symbol;
  std::string trading_class;
  double min_tick = 0.0;

  static ContractInfo from(const tws::ContractDetails& d);
};

class JsonWriter;

/// The `contract` object: {"symbol":..,"sec_type":..,"exchange":..,
/// "primary_exchange":..,"currency":..,"local_symbol":..,"trading_class":..,
/// "min_tick":..}; the SSE info event and WebSocket replies share it.
void append_contract_json(std::string& out, const ContractInfo& c);
/// The same, as the next value of `w`.
void write_contract(JsonWriter& w, const ContractInfo& c);
/// The `error` object of every error event and message:
/// {"code":..,"message":..,"details":..}, as the next value of `w`.
void write_error(JsonWriter& w, std::string_view code, std::string_view message,
                 std::string_view details);

/// {"type":"tick","contract_id":..,"timestamp":iso,"data":<tick_json>}
std::string tick_event_json(int con_id, std::string_view iso_timestamp, std::string_view tick_json);
/// {"type":"info","contract_id":..,"timestamp":..,"info":{"message":..,"tick_type":..,
///  "stream_id":..,"contract":{...}}}; extra_json, when given, is spliced in
/// as further members of "info" (e.g. `"ticks_lost":12`).
std::string info_event_json(int con_id, std::string_view iso_timestamp, std::string_view message,
                            tws::TickType tick_type, std::string_view stream_id,
                            const ContractInfo& contract, std::string_view extra_json = {});
/// {"type":"error","contract_id":..,"timestamp":..,"error":{"code":..,"message":..,"details":..}}
std::string error_event_json(int con_id, std::string_view iso_timestamp, std::string_view code,
                             std::string_view message, std::string_view details);
/// {"type":"complete","contract_id":..,"timestamp":..,"reason":..,"total_ticks":..}
std::string complete_event_json(int con_id, std::string_view iso_timestamp, std::string_view reason,
                                std::uint64_t total_ticks);

/// One SSE event: "id: <n>\n" when given, then "data: <json>\n\n". The JSON
/// must be one line (ours always is).
std::string sse_frame(std::optional<std::uint64_t> id, std::string_view json);
/// The first bytes of every stream: "retry: <ms>\n\n".
std::string sse_retry(int milliseconds);
/// A keep-alive comment: ": keepalive\n\n".
std::string_view sse_keepalive();

} // namespace stream

// The wire formats of a stream's events (design.md "Streams are logs"):
// the Hub encodes each tick and each notice once per format when it appends
// it to the stream's Log, and every client of the stream sends those bytes.
//
// - SSE: the whole frame, "id: <seq>\ndata: <event JSON>\n\n" (api.md §3);
//   notices have no id.
// - WebSocket: the message minus its per-client prefix. A message about one
//   subscription starts `{"type":"<type>","request_id":"<rid>",`
//   (append_ws_prefix, a few bytes per client) and goes on with the shared
//   suffix, e.g. for a tick
//   `"contract_id":265598,"tick_type":"Last","timestamp":"...","data":{...}}`.
//   With permessage-deflate the suffix is deflated once for all clients
//   (ws_deflate.hpp).
//
// Pure functions; thread-safe.
#pragma once

#include "stream/sse_events.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace stream {

/// One tick event as every format shows it.
struct TickParts {
  std::uint64_t seq = 0; // the stream's sequence number (SSE `id:`)
  int con_id = 0;
  tws::TickType tick_type = tws::TickType::last;
  std::string_view iso_time;  // server send time, ISO-8601 UTC ms `Z`
  std::string_view data_json; // the api.md §1 `data` object
};

/// "id: <seq>\ndata: {"type":"tick","contract_id":..,"timestamp":..,"data":{..}}\n\n"
void append_sse_tick(std::string& out, const TickParts& t);
/// `"contract_id":..,"tick_type":..,"timestamp":..,"data":{..}}`
void append_ws_tick_suffix(std::string& out, const TickParts& t);

/// The inverse of append_ws_tick_suffix: {iso_time, data_json} of a tick
/// suffix (views into `suffix`); nullopt when `suffix` is not one.
std::optional<std::pair<std::string_view, std::string_view>>
parse_ws_tick_suffix(std::string_view suffix);

/// A notice about a whole stream (TWS lost, reconnected, stale, resumed,
/// farm down, a TWS error that does not end it).
struct NoticeParts {
  bool error = false;    // an `error` event; else `info`
  std::string_view code; // info: reconnected, stale, ...; error: TWS_DISCONNECTED, TWS_ERROR_<n>
  std::string_view message;
  std::string_view details;
  std::string_view next_open; // info market_closed: an extra `next_open` member
  int con_id = 0;
  tws::TickType tick_type = tws::TickType::last;
  std::string_view stream_key; // "265598:BidAsk"
  const ContractInfo* contract = nullptr;
  std::string_view iso_time;
};

/// The SSE frame: an `info` event {"message","tick_type","stream_id",
/// "contract","code"[,"details"][,"next_open"]} or an `error` event {"code","message","details"}.
void append_sse_notice(std::string& out, const NoticeParts& n);
/// `"timestamp":..,"info":{"message":..,"code":..[,"details":..][,"next_open":..]}}` or
/// `"timestamp":..,"error":{"code":..,"message":..,"details":..}}`
void append_ws_notice_suffix(std::string& out, const NoticeParts& n);

/// `{"type":"<type>","request_id":<request_id as a JSON string>,`
void append_ws_prefix(std::string& out, std::string_view type, std::string_view request_id);

} // namespace stream

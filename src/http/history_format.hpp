// The bodies of the history and replay endpoints: a recorded tick as JSON
// (the api.md §1 tick object plus "seq", "sub" when backfilled, and
// "source") and as a CSV row (RFC 4180), the json envelope of a history
// page, the /history/{id} summary, and HTTP/1.1 chunk framing.
//
// Pure functions; thread-safe.
#pragma once

#include "http/history_params.hpp"
#include "store/store.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace http {

/// The tick object of `r` (stream::append_tick_json) with `"seq"`, for a
/// backfilled tick (sub != 0) `"sub"`, and `"source"` as its last members.
void append_record_json(std::string& out, const store::TickRecord& r);

/// The CSV header row of a tick type: seq,source,unix_time,timestamp and
/// the type's fields; CRLF-terminated.
void append_csv_header(std::string& out, tws::TickType type);
/// One CSV row of `r`, CRLF-terminated; fields quoted when RFC 4180 asks.
void append_csv_row(std::string& out, const store::TickRecord& r);

/// `{"contract_id":N,"tick_type":"BidAsk","start":ISO|null,"end":ISO,"ticks":[`
void append_history_json_head(std::string& out, const HistoryRequest& req);
/// `],"next":TOKEN|null}`
void append_history_json_tail(std::string& out, const std::optional<std::string>& next);

/// GET /history/{contract_id}: per tick type first and last tick, rows per
/// UTC day, live/backfill counts; the gaps with their state.
std::string history_summary_json(int con_id, const std::vector<store::StreamSummary>& streams,
                                 const std::vector<store::Gap>& gaps);

/// `data` as one HTTP/1.1 chunk ("<hex size>\r\n<data>\r\n"); nothing when empty.
void append_chunk(std::string& out, std::string_view data);
/// The last chunk of a chunked body: "0\r\n\r\n".
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

} // namespace http

// The request log: one JSON line per API request the simulator received,
// flushed at once, so tests can count what a client (or the gateway under
// test) asked upstream. Format:
//   {"event":"request","client_id":K,"msg":"reqTickByTickData","req_id":R,
//    "con_id":C,"tick_type":"BidAsk"}
// reqHistoricalTicks adds what_to_show, start, end, count, use_rth and
// ignore_size.
// Fields that do not apply are left out; client_id is null before startApi.
// msg is startApi, reqIds, reqCurrentTime, reqManagedAccts,
// reqMarketDataType, reqContractDetails, reqTickByTickData,
// cancelTickByTickData, reqHistoricalTicks or other:<id>. Extra flags: "dropped":true (over the
// rate limit without +PACEAPI, not processed), "malformed":true with
// "error" (could not be decoded; skipped).
//
// Thread-safety: none; used on the simulator's strand only.
#pragma once

#include "tws/messages.hpp"

#include <cstdio>
#include <optional>
#include <string>

namespace sim {

class RequestLog {
public:
  /// "" = stdout. Throws std::runtime_error when the file cannot be opened.
  explicit RequestLog(const std::string& path);
  ~RequestLog();
  RequestLog(const RequestLog&) = delete;
  RequestLog& operator=(const RequestLog&) = delete;

  void record(std::optional<int> client_id, const tws::DecodedRequest& request,
              bool dropped = false);

  /// The log's name of a request id ("reqTickByTickData", "other:1").
  static std::string message_name(int msg_id);

private:
  std::FILE* file_ = nullptr;
  bool owned_ = false;
};

} // namespace sim

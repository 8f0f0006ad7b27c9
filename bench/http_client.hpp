// A minimal HTTP/1.1 client for the harness's record and history scenarios:
// whole small answers (GET /tracked) and streamed pages of /history counted
// as they arrive (the ticks are counted, not kept: a page of 100,000 ticks
// never sits in the reader's memory, so the reader is not what limits it).
//
// Thread-safety: http_get is a pure function; a HistoryReader belongs to one
// thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

struct HttpResponse {
  int status = 0; // 0: no answer (connect or read failed)
  std::string headers;
  std::string body; // de-chunked
};

/// GET 127.0.0.1:port path on a fresh connection; the whole answer.
HttpResponse http_get(std::uint16_t port, const std::string& path);

/// The value of header `name` (case-insensitive) in a header block, or "".
std::string header_value(const std::string& headers, const std::string& name);

/// What the recorder says about itself (GET /tracked), summed over streams.
struct TrackedSample {
  bool ok = false;                  // the answer was read and parsed
  std::uint64_t ticks_recorded = 0; // all streams
  std::uint64_t lag_ticks = 0;      // the largest recorder_lag.ticks of a stream
  double lag_seconds = 0;           // the largest recorder_lag.seconds
  std::uint64_t gaps_open = 0;      // all streams
  std::uint64_t gaps = 0;           // all streams, every state (open, filled, ...)
  std::uint64_t pending_ticks = 0;  // recorder.pending_ticks
  std::string status;               // recorder.status (ok, degraded)
};

TrackedSample sample_tracked(std::uint16_t port);

enum class HistoryFormat { json, ndjson, csv };
const char* format_name(HistoryFormat f);

/// One page of /history/{con}/{type}, counted as it streams in.
struct HistoryPage {
  int status = 0;
  std::uint64_t ticks = 0; // json: "seq" keys; ndjson: lines; csv: lines after the header
  std::uint64_t bytes = 0; // body bytes (de-chunked)
  std::string next;        // the cursor of the next page, "" on the last
  std::string error;       // a failed page: what went wrong
};

/// One keep-alive connection that reads /history pages.
class HistoryReader {
public:
  explicit HistoryReader(std::uint16_t port);
  ~HistoryReader();
  HistoryReader(const HistoryReader&) = delete;
  HistoryReader& operator=(const HistoryReader&) = delete;

  HistoryPage get(const std::string& path, HistoryFormat format);

private:
  bool connect();
  /// Appends up to one read to in_; false on EOF or error.
  bool fill();

  std::uint16_t port_;
  int fd_ = -1;
  std::vector<char> in_; // received and not yet consumed: [begin_, end_)
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

} // namespace bench

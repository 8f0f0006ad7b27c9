// The history scenario of ib-stream-bench: a day of ticks recorded by
// ib-stream-server from the benchmark's TWS feed (one tracked BidAsk
// stream), then read back from a freshly started server over
// GET /history/{contract_id}/BidAsk, the whole day page after page
// (following the cursor) in each format, while the server's memory is
// sampled. One JSON line per format on stdout.
//
// Thread-safety: run_history runs on the calling thread (plus its samplers).
#pragma once

#include <string>

namespace bench {

struct HistoryOptions {
  std::string server;     // the ib-stream-server binary
  std::string server_log; // its stderr ("" = inherited)
  std::string data_dir;   // the record (emptied of tracked.json before reading)
  long ticks = 1000000;   // ticks to record, then read
  double fill_rate = 100000;
  int page_limit = 100000;
};

/// 0 when every format read back every recorded tick.
int run_history(const HistoryOptions& o);

} // namespace bench

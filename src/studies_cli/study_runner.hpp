// Feeds tick events to the selected study and writes what it reports: the
// console (header, rows, summaries) or --json objects on stdout, --output
// JSON Lines, and the --record file. The same object serves live transports
// and --replay, so a replay prints what the live run printed.
//
// Not thread-safe: call it from one thread (the io_context's, or main).
#pragma once

#include "studies/delta_study.hpp"
#include "studies/multi_delta_study.hpp"
#include "studies/same_time_order.hpp"
#include "studies/tick_event.hpp"
#include "studies_cli/options.hpp"

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

namespace studies_cli {

class StudyRunner {
public:
  StudyRunner(const StudiesOptions& o, std::FILE* out, std::FILE* err);
  ~StudyRunner();
  StudyRunner(const StudyRunner&) = delete;
  StudyRunner& operator=(const StudyRunner&) = delete;

  /// Opens --output and --record for appending; false (message on err) when
  /// one cannot be opened.
  bool open_files();
  /// Prints the header (human output only).
  void start();
  /// One `tick` event. `record_line` is the event as api.md §3 JSON; it is
  /// recorded when the tick is one of the selected types and applied. Ticks
  /// of one server timestamp are held and applied trades first
  /// (same_time_order.hpp): call flush() shortly after the last arrival.
  /// Returns false once --limit trades have been processed (the caller stops).
  bool on_tick(const studies::StreamEvent& ev, std::string_view record_line);
  /// Applies the held ticks; false once --limit is reached.
  bool flush();
  /// Decimals for prices from the contract's minimum tick (info event).
  void set_min_tick(double min_tick);
  /// A summary now, if trades came since the last one (human output only).
  void periodic_summary();
  /// The final summary (stdout, or stderr with --json); idempotent.
  void finish();

  long long trades() const { return trades_; }
  bool limit_reached() const { return o_.limit > 0 && trades_ >= o_.limit; }
  long long skipped_other_contracts() const { return other_contracts_; }

private:
  bool apply(const studies::StreamEvent& ev, std::string_view record_line);
  void emit(const studies::TradeResult& r, const std::string& event_timestamp);
  studies::WindowSummary summary() const;
  const studies::CalculationStats& stats() const;

  const StudiesOptions& o_;
  std::FILE* out_;
  std::FILE* err_;
  std::FILE* output_file_ = nullptr;
  std::FILE* record_file_ = nullptr;
  std::variant<studies::DeltaStudy, studies::MultiDeltaStudy> study_;
  studies::SameTimeOrder order_;
  int decimals_ = 2;
  long long trades_ = 0;
  long long trades_at_last_summary_ = 0;
  long long other_contracts_ = 0;
  bool finished_ = false;
  std::string line_;
};

} // namespace studies_cli

// GET /metrics (README "Metrics"): the Prometheus text exposition format
// 0.0.4. `MetricsText` writes families (# HELP, # TYPE, samples, escaped
// label values, histograms with cumulative buckets, +Inf, _sum, _count);
// `render_metrics` lays out every family from a `MetricsInputs`, which
// `answer_metrics` gathers at scrape time: the Hub's snapshot (TWS, streams
// and their counters, clients), the recorder's status, the counters of
// metrics_registry.hpp, the HistoryWorkers and /proc.
//
// Per-stream series (labels contract_id, tick_type) exist while the Hub
// holds that upstream subscription (it has clients, lingers, or is
// tracked) or, for the recorder's families, while the stream is tracked:
// series of a stream that ended are gone from the next scrape.
//
// MetricsText and render_metrics are pure (thread-safe on distinct
// objects); answer_metrics may be called from any thread and answers on
// `ex`.
#pragma once

#include "http/metrics_registry.hpp"
#include "http/process_metrics.hpp"
#include "http/response.hpp"
#include "http/server_state.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace http {

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

/// A label value with backslash, double quote and line feed escaped.
std::string escape_label_value(std::string_view v);
/// HELP text with backslash and line feed escaped.
std::string escape_help(std::string_view v);
/// A sample value: integers as such, "+Inf", "-Inf", "NaN".
std::string format_value(double v);

class MetricsText {
public:
  using Label = std::pair<std::string_view, std::string_view>;
  using Labels = std::initializer_list<Label>;

  /// # HELP and # TYPE of the family `name` (type: counter, gauge, histogram).
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, Labels labels, double value);
  /// name_bucket{...,le="..."} for each bound and +Inf, name_sum, name_count.
  void histogram(std::string_view name, Labels labels, const Histogram::Snapshot& h);
  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

private:
  void labels(const Label* begin, const Label* end, const Label* extra = nullptr);
  std::string out_;
};

/// The name of a TWS message id as a label value ("tick_by_tick",
/// "err_msg"...; "id_<n>" for one this project does not name).
std::string tws_message_type(int msg_id);

struct MetricsInputs {
  stream::HubSnapshot hub;
  std::vector<std::pair<int, std::uint64_t>> tws_messages; // (message id, count), count > 0
  std::vector<std::pair<std::pair<std::string, int>, std::uint64_t>> http_requests;
  Histogram::Snapshot delivery_latency;
  std::size_t websocket_connections = 0;
  // The record.
  bool recorder = false; // the server records (the families below are shown)
  record::RecorderHealth recorder_health;
  std::vector<record::TrackedStatus> tracked;
  std::uint64_t record_bytes = 0;
  // History and replay.
  std::uint64_t history_admitted = 0;
  std::uint64_t history_rejected = 0;
  std::size_t history_in_flight = 0;
  Histogram::Snapshot history_query_duration;
  std::optional<ProcessStats> process;
};

std::string render_metrics(const MetricsInputs& in);

/// Bytes of the record's day files (and their journals) in `data_dir`.
std::uint64_t record_bytes(const std::string& data_dir);

/// Gathers the inputs and answers 200 with the text, on `ex`.
void answer_metrics(std::shared_ptr<ServerState> state, boost::asio::any_io_executor ex,
                    std::function<void(Response)> done);

} // namespace http

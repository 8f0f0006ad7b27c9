// The counters behind GET /metrics that are counted where things happen
// (README "Metrics"): a latency histogram with fixed buckets, the HTTP
// requests by route template and status, and the process-wide set of them
// (`server_metrics()`: one per process, as Prometheus scrapes a process).
// Everything else /metrics shows is read when it is scraped (the Hub's
// snapshot, the recorder's status, /proc): metrics_endpoint.hpp.
//
// Thread-safety: every member may be used from any thread. Histogram
// observations are relaxed atomic adds (no lock, no allocation: cheap
// enough for each write of ticks to a client socket); RequestCounter takes
// a mutex per HTTP request (never per tick).
#pragma once

#include "http/router.hpp"
#include "tws/client.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace http {

/// A Prometheus histogram of durations: cumulative buckets at rendering,
/// counts per bucket in atomics.
class Histogram {
public:
  /// Upper bounds in seconds, ascending (+Inf is implied).
  Histogram(std::initializer_list<double> bounds_seconds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  /// One observation of `ns` nanoseconds (a negative one counts as 0).
  void observe_ns(std::int64_t ns);

  struct Snapshot {
    std::vector<double> bounds;        // seconds, without +Inf
    std::vector<std::uint64_t> counts; // cumulative, one per bound and +Inf last
    double sum_seconds = 0.0;
    std::uint64_t count() const { return counts.empty() ? 0 : counts.back(); }
  };
  Snapshot snapshot() const;

private:
  std::vector<double> bounds_;
  std::vector<std::int64_t> bounds_ns_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_; // bounds + 1 (+Inf)
  std::atomic<std::uint64_t> sum_ns_{0};
};

/// Buckets of the TWS-receive-to-socket-write latency: 10 us .. 1 s.
inline constexpr std::initializer_list<double> kDeliveryLatencyBuckets = {
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
    0.005,   0.01,     0.025,   0.05,   0.1,     0.25,   0.5,   1.0};
/// Buckets of the record queries: 100 us .. 10 s.
inline constexpr std::initializer_list<double> kQueryDurationBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,  10.0};

/// HTTP requests answered, by route template and status.
class RequestCounter {
public:
  void add(std::string route, int status);
  /// ((route, status), count), ordered.
  std::vector<std::pair<std::pair<std::string, int>, std::uint64_t>> snapshot() const;

private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> counts_;
};

/// The route template of a routed request, as a metric label: the path
/// with `{contract_id}` (`{contract}` under /contracts) and `{tick_type}`
/// for its parameters, e.g. "/stream/{contract_id}/{tick_type}"; "other"
/// for a path that names no endpoint (never the raw path: the label's
/// values stay a small set).
std::string route_template(const Route& route);
/// The same for a request as the access log has it: the method and the
/// percent-decoded path.
std::string route_template(std::string_view method, std::string_view decoded_path);

/// What this process counts as things happen.
struct ServerMetrics {
  /// From the moment the Hub took a tick from the TWS connection to the
  /// moment a socket write that carried it completed: one observation per
  /// write that carries live ticks, for the oldest tick in it.
  Histogram delivery_latency{kDeliveryLatencyBuckets};
  RequestCounter http_requests;
  /// Messages from TWS by message id (the Hub's connections count here).
  const std::shared_ptr<tws::MessageCounts> tws_messages = std::make_shared<tws::MessageCounts>();
};

ServerMetrics& server_metrics();

/// Counts one answered request (the access log calls it for every one).
void count_http_request(std::string_view method, std::string_view decoded_path, int status);

/// A session wrote ticks to its socket: one latency observation for the
/// oldest of them (`received_ns`, LogEntry::received_ns; 0 = none).
void observe_delivery(std::int64_t received_ns);

} // namespace http

#include "http/metrics_registry.hpp"

#include <chrono>
#include <cmath>

namespace http {

Histogram::Histogram(std::initializer_list<double> bounds_seconds)
    : bounds_(bounds_seconds),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_seconds.size() + 1)) {
  bounds_ns_.reserve(bounds_.size());
  for (const double b : bounds_) bounds_ns_.push_back(std::llround(b * 1e9));
}

void Histogram::observe_ns(std::int64_t ns) {
  if (ns < 0) ns = 0;
  std::size_t i = 0;
  while (i < bounds_ns_.size() && ns > bounds_ns_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  s.counts.reserve(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.counts.push_back(running);
  }
  s.sum_seconds = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  return s;
}

void RequestCounter::add(std::string route, int status) {
  const std::lock_guard lock(mutex_);
  ++counts_[{std::move(route), status}];
}

std::vector<std::pair<std::pair<std::string, int>, std::uint64_t>>
RequestCounter::snapshot() const {
  const std::lock_guard lock(mutex_);
  return {counts_.begin(), counts_.end()};
}

std::string route_template(const Route& route) {
  switch (route.endpoint) {
  case Endpoint::not_found:
  case Endpoint::bad_target: return "other";
  default: break;
  }
  // The path's segments, its parameters replaced by their names.
  std::vector<std::string_view> segments;
  const std::string_view path = route.path;
  for (std::size_t at = 1; at <= path.size();) {
    const auto end = std::min(path.find('/', at), path.size());
    segments.push_back(path.substr(at, end - at));
    at = end + 1;
  }
  std::string out;
  bool contract_done = false;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto seg = segments[i];
    out += '/';
    if (i > 0 && !contract_done && !route.contract_segment.empty() &&
        seg == route.contract_segment) {
      out +=
          segments[0] == "contracts" || segments[0] == "studies" ? "{contract}" : "{contract_id}";
      contract_done = true;
    } else if (i > 0 && i + 1 == segments.size() && route.tick_type && seg == *route.tick_type &&
               seg != "multi") {
      out += "{tick_type}";
    } else {
      out += seg;
    }
  }
  return out.empty() ? "/" : out;
}

namespace {

/// Characters a path keeps as they are (RFC 3986 pchar and '/').
bool path_char(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~!$&'()*+,;=:@/").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

} // namespace

std::string route_template(std::string_view method, std::string_view decoded_path) {
  // Routed again, as the request was: the path encoded back into a target.
  std::string target;
  target.reserve(decoded_path.size());
  constexpr char kHex[] = "0123456789ABCDEF";
  for (const char ch : decoded_path) {
    const auto c = static_cast<unsigned char>(ch);
    if (path_char(c)) {
      target += ch;
    } else {
      target += '%';
      target += kHex[c >> 4];
      target += kHex[c & 15];
    }
  }
  return route_template(route_request(method, target));
}

ServerMetrics& server_metrics() {
  static ServerMetrics metrics;
  return metrics;
}

void count_http_request(std::string_view method, std::string_view decoded_path, int status) {
  server_metrics().http_requests.add(route_template(method, decoded_path), status);
}

void observe_delivery(std::int64_t received_ns) {
  if (received_ns == 0) return;
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  server_metrics().delivery_latency.observe_ns(now - received_ns);
}

} // namespace http

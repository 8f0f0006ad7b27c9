#include "history_scenario.hpp"

#include "http_client.hpp"
#include "proc_stats.hpp"
#include "server_process.hpp"
#include "stamped_tick.hpp"
#include "tws_feed.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <thread>
#include <vector>

namespace bench {
namespace {

using namespace std::chrono_literals;

constexpr int kConId = 7001;

std::vector<std::string> server_args(std::uint16_t feed_port, const std::string& data_dir) {
  // The bench's ticks are stamped in 2023 (stamped_tick.hpp): keep every day.
  return {"--ports",          std::to_string(feed_port),
          "--client-id",      "7",
          "--log-level",      "warn",
          "--data-dir",       data_dir,
          "--retention-days", "0",
          "--drain-seconds",  "0"};
}

/// Waits until the recorder has nothing pending and its count stands still.
TrackedSample drained(std::uint16_t port) {
  TrackedSample last;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto s = sample_tracked(port);
    if (s.ok && s.pending_ticks == 0 && s.lag_ticks == 0 && s.ticks_recorded == last.ticks_recorded)
      return s;
    last = s;
    std::this_thread::sleep_for(100ms);
  }
  throw std::runtime_error("history: the recorder did not drain within 60 s");
}

std::uintmax_t day_file_bytes(const std::string& dir) {
  std::uintmax_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (name.starts_with("ticks-") && e.is_regular_file()) n += e.file_size();
  }
  return n;
}

/// Peak VmRSS / RssAnon of a process, sampled every 5 ms on a thread.
class RssPeak {
public:
  explicit RssPeak(pid_t pid) : pid_(pid) {
    thread_ = std::thread([this] {
      while (!stop_) {
        rss_ = std::max(rss_.load(), process_status_kib(pid_, "VmRSS"));
        anon_ = std::max(anon_.load(), process_status_kib(pid_, "RssAnon"));
        std::this_thread::sleep_for(5ms);
      }
    });
  }
  ~RssPeak() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  long rss() const { return rss_; }
  long anon() const { return anon_; }

private:
  pid_t pid_;
  std::atomic<long> rss_{0};
  std::atomic<long> anon_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// Reads the whole range in one format; prints its JSON line.
bool read_all(std::uint16_t port, pid_t pid, HistoryFormat format, const std::string& range,
              int limit, std::uint64_t recorded) {
  const long rss0 = process_status_kib(pid, "VmRSS");
  const long anon0 = process_status_kib(pid, "RssAnon");
  RssPeak peak(pid);
  const double cpu0 = process_cpu_seconds(pid);
  const double reader_cpu0 = own_cpu_seconds(RUSAGE_THREAD);
  const std::string base = "/history/" + std::to_string(kConId) +
                           "/BidAsk?limit=" + std::to_string(limit) +
                           "&format=" + format_name(format);
  HistoryReader reader(port);
  std::uint64_t ticks = 0, bytes = 0;
  int pages = 0;
  std::string error, path = base + "&" + range;
  double first_page_s = 0;
  const std::uint64_t t0 = now_ns();
  for (;;) {
    const auto page = reader.get(path, format);
    ++pages;
    if (pages == 1) first_page_s = static_cast<double>(now_ns() - t0) / 1e9;
    ticks += page.ticks;
    bytes += page.bytes;
    if (!page.error.empty()) {
      error = "page " + std::to_string(pages) + ": " + page.error;
      break;
    }
    if (page.next.empty()) break;
    path = base + "&cursor=" + page.next;
  }
  const double seconds = static_cast<double>(now_ns() - t0) / 1e9;
  const double server_cpu = (process_cpu_seconds(pid) - cpu0) / seconds;
  const double reader_cpu = (own_cpu_seconds(RUSAGE_THREAD) - reader_cpu0) / seconds;
  std::this_thread::sleep_for(500ms); // what the server keeps once the reads ended
  peak.stop();
  const long rss1 = process_status_kib(pid, "VmRSS");
  const long anon1 = process_status_kib(pid, "RssAnon");
  if (error.empty() && ticks != recorded)
    error = std::to_string(ticks) + " ticks read of " + std::to_string(recorded) + " recorded";
  std::printf("{\"scenario\":\"history\",\"format\":\"%s\",\"limit\":%d,\"recorded\":%llu,"
              "\"ticks\":%llu,\"pages\":%d,\"bytes\":%llu,\"seconds\":%.3f,"
              "\"first_page_s\":%.3f,\"ticks_per_s\":%.0f,\"mib_per_s\":%.1f,"
              "\"server_cpu\":%.3f,\"reader_cpu\":%.3f,\"rss_before_kib\":%ld,"
              "\"rss_peak_kib\":%ld,\"rss_after_kib\":%ld,\"anon_before_kib\":%ld,"
              "\"anon_peak_kib\":%ld,\"anon_after_kib\":%ld,\"error\":\"%s\"}\n",
              format_name(format), limit, static_cast<unsigned long long>(recorded),
              static_cast<unsigned long long>(ticks), pages, static_cast<unsigned long long>(bytes),
              seconds, first_page_s, static_cast<double>(ticks) / seconds,
              static_cast<double>(bytes) / seconds / (1024.0 * 1024.0), server_cpu, reader_cpu,
              rss0, std::max(peak.rss(), rss1), rss1, anon0, std::max(peak.anon(), anon1), anon1,
              error.c_str());
  std::fflush(stdout);
  if (!error.empty()) std::fprintf(stderr, "ib-stream-bench: history %s\n", error.c_str());
  return error.empty();
}

} // namespace

int run_history(const HistoryOptions& o) {
  namespace fs = std::filesystem;
  fs::create_directories(o.data_dir);
  if (!fs::is_empty(o.data_dir))
    throw std::runtime_error("history: --data-dir " + o.data_dir + " is not empty");
  TwsFeed feed;
  now_ns();
  // Phase 1: one tracked stream recorded from the feed until it holds the ticks.
  TrackedSample rec;
  double fill_seconds = 0, fill_cpu = 0;
  {
    auto args = server_args(feed.port(), o.data_dir);
    args.insert(args.end(), {"--track", std::to_string(kConId) + ":BidAsk"});
    ServerProcess server(o.server, args, o.server_log);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (feed.subscriptions() < 1 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    if (feed.subscriptions() < 1) throw std::runtime_error("history: the stream never opened");
    const double cpu0 = process_cpu_seconds(server.pid());
    const std::uint64_t t0 = now_ns();
    feed.set_contract_rate(kConId, o.fill_rate);
    const auto limit = std::chrono::steady_clock::now() +
                       std::chrono::duration<double>(o.ticks / o.fill_rate * 4 + 30);
    while (static_cast<long>(feed.last_seqs()[kConId]) < o.ticks) {
      if (std::chrono::steady_clock::now() > limit)
        throw std::runtime_error("history: the feed never wrote the ticks");
      std::this_thread::sleep_for(1ms); // stops within a few ms of ticks past the count
    }
    feed.set_contract_rate(kConId, 0);
    rec = drained(server.port());
    fill_seconds = static_cast<double>(now_ns() - t0) / 1e9;
    fill_cpu = (process_cpu_seconds(server.pid()) - cpu0) / fill_seconds;
  } // SIGTERM: the server closes its day file (WAL checkpointed)
  fs::remove(fs::path(o.data_dir) / "tracked.json"); // the reading server records nothing
  const std::uintmax_t file_bytes = day_file_bytes(o.data_dir);
  std::printf("{\"scenario\":\"history_fill\",\"recorded\":%llu,\"fed\":%llu,\"gaps_open\":%llu,"
              "\"seconds\":%.3f,\"recorded_per_s\":%.0f,\"server_cpu\":%.3f,"
              "\"day_file_bytes\":%llu,\"bytes_per_tick\":%.1f}\n",
              static_cast<unsigned long long>(rec.ticks_recorded),
              static_cast<unsigned long long>(feed.last_seqs()[kConId]),
              static_cast<unsigned long long>(rec.gaps_open), fill_seconds,
              static_cast<double>(rec.ticks_recorded) / fill_seconds, fill_cpu,
              static_cast<unsigned long long>(file_bytes),
              static_cast<double>(file_bytes) / static_cast<double>(rec.ticks_recorded));
  std::fflush(stdout);

  // Phase 2: a fresh server on the record reads the whole UTC day back.
  ServerProcess server(o.server, server_args(feed.port(), o.data_dir), o.server_log);
  const long day = 1700000000L / 86400 * 86400; // the day of the feed's ticks
  const std::string range = "start=" + std::to_string(day) + "&end=" + std::to_string(day + 86400);
  bool ok = true;
  for (const auto f : {HistoryFormat::json, HistoryFormat::ndjson, HistoryFormat::csv})
    ok = read_all(server.port(), server.pid(), f, range, o.page_limit, rec.ticks_recorded) && ok;
  return ok ? 0 : 1;
}

} // namespace bench

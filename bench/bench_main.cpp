// ib-stream-bench: one benchmark run, results as JSON lines on stdout (one
// per rate step, or one for an idle run). bench/run.py drives it through the
// benchmark scenarios and writes bench/RESULTS.md.
//
//   fanout / breadth: TwsFeed -> ib-stream-server (child) -> N clients
//   record:           the same fan-out at one rate while K more contracts are
//                     tracked (--track) and fed at each --track-rates total,
//                     the recorder sampled through GET /tracked
//   history:          a recorded day read back from /history (history_scenario.cpp)
//   scaleout:         TwsFeed -> publisher -> nats-server -> E edges -> N
//                     clients each, M of the publisher (scaleout_scenario.cpp)
//   ceiling:          RawFanout -> N SSE clients (no server)
//   idle:             N clients held open on a silent stream
//
// --count-allocs LD_PRELOADs libibs_alloc_count.so (alloc_count.cpp) into the
// server and reports the server's heap allocations in each step's window.
#include "alloc_count.hpp"
#include "history_scenario.hpp"
#include "load_generator.hpp"
#include "proc_stats.hpp"
#include "raw_fanout.hpp"
#include "recorder_watch.hpp"
#include "scaleout_scenario.hpp"
#include "server_process.hpp"
#include "stamped_tick.hpp"
#include "tws_feed.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace bench;
using namespace std::chrono_literals;

constexpr int kFirstConId = 1001;
constexpr int kFirstTrackedConId = 5001; // record: the tracked contracts

struct Options {
  std::string scenario =
      "fanout"; // fanout | breadth | record | history | scaleout | idle | ceiling
  Transport transport = Transport::sse;
  int clients = 100;
  int upstreams = 1;
  std::vector<double> rates = {1000};
  double duration = 2.0;
  double warmup = 0.3;
  int buffer_size = 1000;
  double max_p99_ms = 10.0;   // a clean step: p99 at most this
  double stop_p99_ms = 100.0; // the ladder goes on while p99 stays under this
  bool stop_on_fail = true;
  std::string server;
  std::string server_log;
  bool count_allocs = false;
  int track_upstreams = 0;               // record: contracts tracked (recorded)
  std::vector<double> track_rates = {0}; // record: their total ticks/s, one per step
  std::string data_dir;                  // record, history: the server's --data-dir
  long history_ticks = 1000000;          // history: ticks recorded, then read back
  double fill_rate = 100000;             // history: ticks/s while recording them
  int page_limit = 100000;               // history: limit= of each page
  int edges = 1;                         // scaleout: edge nodes (--clients is per edge)
  int pub_clients = 0;                   // scaleout: clients of the publisher itself
  std::string nats_server;               // scaleout: nats-server (empty: found)
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(
      stderr,
      "ib-stream-bench: %s\n"
      "usage: ib-stream-bench [--scenario fanout|breadth|record|history|scaleout|idle|ceiling]\n"
      "  [--transport sse|ws] [--clients N] [--upstreams U] [--rates R1,R2,...] [--duration S]\n"
      "  [--warmup S] [--buffer-size B] [--max-p99-ms MS] [--stop-p99-ms MS] [--all-rates]\n"
      "  [--server PATH] [--server-log FILE] [--count-allocs]\n"
      "  record:  --data-dir DIR --track-upstreams K --track-rates T1,T2,... (total ticks/s)\n"
      "  history: --data-dir DIR [--history-ticks N] [--fill-rate R] [--page-limit L]\n"
      "  scaleout: --data-dir DIR [--edges E] [--pub-clients M] [--nats-server PATH]\n"
      "           (--clients per edge; M clients of the publisher itself)\n",
      why.c_str());
  std::exit(2);
}

std::vector<double> parse_list(const std::string& v) {
  std::vector<double> out;
  std::size_t start = 0;
  while (start <= v.size()) {
    const auto comma = v.find(',', start);
    out.push_back(std::stod(v.substr(start, comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--scenario") o.scenario = value();
    else if (a == "--transport") {
      const auto v = value();
      if (v != "sse" && v != "ws") usage("--transport is sse or ws");
      o.transport = v == "ws" ? Transport::ws : Transport::sse;
    } else if (a == "--clients") o.clients = std::stoi(value());
    else if (a == "--upstreams") o.upstreams = std::stoi(value());
    else if (a == "--rates") o.rates = parse_list(value());
    else if (a == "--track-rates") {
      o.track_rates = parse_list(value());
    } else if (a == "--track-upstreams") o.track_upstreams = std::stoi(value());
    else if (a == "--data-dir") o.data_dir = value();
    else if (a == "--history-ticks") o.history_ticks = std::stol(value());
    else if (a == "--fill-rate") o.fill_rate = std::stod(value());
    else if (a == "--page-limit") o.page_limit = std::stoi(value());
    else if (a == "--edges") o.edges = std::stoi(value());
    else if (a == "--pub-clients") o.pub_clients = std::stoi(value());
    else if (a == "--nats-server") o.nats_server = value();
    else if (a == "--duration") o.duration = std::stod(value());
    else if (a == "--warmup") o.warmup = std::stod(value());
    else if (a == "--buffer-size") o.buffer_size = std::stoi(value());
    else if (a == "--max-p99-ms") o.max_p99_ms = std::stod(value());
    else if (a == "--stop-p99-ms") o.stop_p99_ms = std::stod(value());
    else if (a == "--all-rates") o.stop_on_fail = false;
    else if (a == "--server") o.server = value();
    else if (a == "--server-log") o.server_log = value();
    else if (a == "--count-allocs") o.count_allocs = true;
    else usage("unknown option " + a);
  }
  if (o.scenario != "fanout" && o.scenario != "breadth" && o.scenario != "record" &&
      o.scenario != "history" && o.scenario != "scaleout" && o.scenario != "idle" &&
      o.scenario != "ceiling")
    usage("unknown scenario " + o.scenario);
  if ((o.scenario == "record" || o.scenario == "history" || o.scenario == "scaleout") &&
      o.data_dir.empty())
    usage("--scenario " + o.scenario + " needs --data-dir (the record's directory)");
  if (o.scenario == "record" && o.track_upstreams < 1)
    usage("--scenario record needs --track-upstreams K >= 1");
  if (o.scenario == "history" && (o.history_ticks < 1 || o.fill_rate <= 0 || o.page_limit < 1))
    usage("--history-ticks, --fill-rate and --page-limit are positive");
  if (o.scenario == "scaleout" &&
      (o.edges < 1 || o.pub_clients < 0 || o.upstreams != 1 || o.count_allocs))
    usage("--scenario scaleout: --edges >= 1, --pub-clients >= 0, one upstream, no "
          "--count-allocs");
  if (o.clients < 1 || o.upstreams < 1 || o.duration <= 0) usage("bad numbers");
  if (o.scenario == "ceiling" && (o.upstreams != 1 || o.transport != Transport::sse))
    usage("the ceiling is one stream of SSE bytes");
  if (o.scenario == "ceiling" && o.count_allocs)
    usage("--count-allocs counts the server's allocations; the ceiling runs no server");
  return o;
}

/// The server next to this executable (build/bench/.. or build/).
std::string default_server(const char* argv0) {
  namespace fs = std::filesystem;
  const fs::path self = fs::canonical("/proc/self/exe").parent_path();
  for (const auto& p : {self / "ib-stream-server", self.parent_path() / "ib-stream-server"})
    if (fs::exists(p)) return p.string();
  return std::string(argv0) + "-server-not-found";
}

/// The allocation counter built beside this executable (build/bench/).
std::string alloc_count_library() {
  namespace fs = std::filesystem;
  const fs::path p = fs::canonical("/proc/self/exe").parent_path() / "libibs_alloc_count.so";
  if (!fs::exists(p))
    throw std::runtime_error("--count-allocs: " + p.string() +
                             " not found (build the ibs_alloc_count target)");
  return p.string();
}

void raise_fd_limit() {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max; // the server child inherits it
  setrlimit(RLIMIT_NOFILE, &rl);
}

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

const char* transport_name(Transport t) { return t == Transport::ws ? "ws" : "sse"; }

/// The --track value of the record scenario: K BidAsk streams.
std::string track_spec(int k) {
  std::string spec;
  for (int i = 0; i < k; ++i)
    spec += (i ? ";" : "") + std::to_string(kFirstTrackedConId + i) + ":BidAsk";
  return spec;
}

/// The feed side of a run: the TWS feed (with the server) or the raw ceiling.
struct Source {
  std::function<void(double)> set_rate;
  std::function<std::map<int, std::uint64_t>()> last_seqs;
};

/// Ticks written between `base` and `end` to contracts [first, first + count).
std::uint64_t total_over(const std::map<int, std::uint64_t>& end,
                         const std::map<int, std::uint64_t>& base, int first, int count) {
  std::uint64_t n = 0;
  for (const auto& [con, last] : end) {
    if (con < first || con >= first + count) continue;
    const auto it = base.find(con);
    const std::uint64_t b = it == base.end() ? 0 : it->second;
    n += last > b ? last - b : 0;
  }
  return n;
}

/// The record scenario's end: the tracked feed stopped, the recorder drained
/// (nothing pending, ticks_recorded still), what it recorded in all.
void print_record_total(TwsFeed& feed, std::uint16_t port, int tracked) {
  for (int i = 0; i < tracked; ++i) feed.set_contract_rate(kFirstTrackedConId + i, 0);
  std::this_thread::sleep_for(50ms);
  std::uint64_t fed = 0;
  for (const auto& [con, seq] : feed.last_seqs())
    if (con >= kFirstTrackedConId && con < kFirstTrackedConId + tracked) fed += seq;
  TrackedSample last;
  wait_for(
      [&] {
        const auto s = sample_tracked(port);
        const bool still = s.ok && s.pending_ticks == 0 && s.lag_ticks == 0 &&
                           s.ticks_recorded == last.ticks_recorded;
        last = s;
        return still;
      },
      30s);
  std::printf("{\"scenario\":\"record_total\",\"track_upstreams\":%d,\"fed\":%llu,"
              "\"ticks_recorded\":%llu,\"gaps\":%llu,\"gaps_open\":%llu,"
              "\"recorder_status\":\"%s\"}\n",
              tracked, static_cast<unsigned long long>(fed),
              static_cast<unsigned long long>(last.ticks_recorded),
              static_cast<unsigned long long>(last.gaps),
              static_cast<unsigned long long>(last.gaps_open), last.status.c_str());
  std::fflush(stdout);
}

int run(const Options& o, const char* argv0) {
  raise_fd_limit();
  if (o.scenario == "history")
    return run_history({o.server.empty() ? default_server(argv0) : o.server, o.server_log,
                        o.data_dir, o.history_ticks, o.fill_rate, o.page_limit});
  if (o.scenario == "scaleout")
    return run_scaleout({o.server.empty() ? default_server(argv0) : o.server, o.server_log,
                         o.nats_server, o.data_dir, o.transport, o.edges, o.clients, o.pub_clients,
                         o.rates, o.duration, o.warmup, o.buffer_size, o.max_p99_ms, o.stop_p99_ms,
                         o.stop_on_fail});
  now_ns(); // the harness epoch
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < static_cast<rlim_t>(o.clients) + 64) {
    std::fprintf(stderr, "ib-stream-bench: %d clients need more file descriptors than %lu\n",
                 o.clients, static_cast<unsigned long>(rl.rlim_cur));
    return 1;
  }

  std::unique_ptr<TwsFeed> feed;
  std::unique_ptr<ServerProcess> server;
  std::unique_ptr<RawFanout> raw;
  std::unique_ptr<AllocCountFile> allocs;
  std::uint16_t port = 0;
  Source source;
  if (o.scenario == "ceiling") {
    raw = std::make_unique<RawFanout>(kFirstConId);
    port = raw->port();
    source = {[&](double r) { raw->set_rate(r); }, [&] { return raw->last_seqs(); }};
  } else {
    feed = std::make_unique<TwsFeed>();
    const std::string binary = o.server.empty() ? default_server(argv0) : o.server;
    std::vector<std::string> env;
    if (o.count_allocs) {
      allocs = std::make_unique<AllocCountFile>();
      env = {"LD_PRELOAD=" + alloc_count_library(), "IBS_ALLOC_COUNT_FILE=" + allocs->path()};
    }
    std::vector<std::string> args{
        "--ports",
        std::to_string(feed->port()),
        "--client-id",
        "7",
        "--log-level",
        "warn",
        "--max-clients",
        std::to_string(std::max(10000, o.clients + 100)),
        "--max-streams",
        std::to_string(std::max(50, o.upstreams + o.track_upstreams + 10)),
        "--buffer-size",
        std::to_string(o.buffer_size),
        "--ws-max-connections-per-ip",
        "100000",
        "--drain-seconds",
        "0"};
    if (o.scenario == "record") // the bench's ticks are of 2023: keep every day
      args.insert(args.end(), {"--track", track_spec(o.track_upstreams), "--data-dir", o.data_dir,
                               "--retention-days", "0"});
    server = std::make_unique<ServerProcess>(binary, std::move(args), o.server_log, env);
    port = server->port();
    // A server that got this far has allocated: nothing counted means the
    // preload did not take (a static or sanitizer allocator, a setuid binary).
    if (allocs && (!allocs->live() || allocs->pid() != server->pid() || allocs->allocations() == 0))
      throw std::runtime_error("--count-allocs: LD_PRELOAD of libibs_alloc_count.so did not take "
                               "in " +
                               binary + " (no allocations counted)");
    source = {[&](double r) { feed->set_rate(r); }, [&] { return feed->last_seqs(); }};
  }
  const pid_t server_pid = server ? server->pid() : ::getpid();

  std::vector<ClientSpec> specs;
  for (int i = 0; i < o.clients; ++i) {
    const int con = kFirstConId + i % o.upstreams;
    specs.push_back({std::string(o.transport == Transport::ws ? "/ws/stream/" : "/stream/") +
                         std::to_string(con) + "/BidAsk",
                     con});
  }
  const long rss_before = process_status_kib(server_pid, "VmRSS");
  const std::uint64_t allocs_before_clients = allocs ? allocs->allocations() : 0;
  const std::uint64_t t_connect = now_ns();
  LoadGenerator clients(port, o.transport, std::move(specs));
  wait_for([&] { return clients.streaming() + clients.failed() >= o.clients; }, 120s);
  const double accept_s =
      clients.streaming() > 0 ? static_cast<double>(clients.last_open_ns() - t_connect) / 1e9 : 0.0;
  const int tracked = o.scenario == "record" ? o.track_upstreams : 0;
  if (feed) wait_for([&] { return feed->subscriptions() >= o.upstreams + tracked; }, 20s);
  // Accepting clients allocates: a counter that stood still was counting a
  // process that exec'd away (a wrapper script), not the server.
  if (allocs && clients.streaming() > 0 && allocs->allocations() == allocs_before_clients)
    throw std::runtime_error("--count-allocs: no allocations counted while clients connected; "
                             "the LD_PRELOAD did not reach the server process");

  const char* transport = transport_name(o.transport);
  if (o.scenario == "idle") {
    std::this_thread::sleep_for(1s); // let the server settle its per-client state
    const long rss_after = process_status_kib(server_pid, "VmRSS");
    const int n = clients.streaming();
    std::printf("{\"scenario\":\"idle\",\"transport\":\"%s\",\"clients\":%d,\"streaming\":%d,"
                "\"failed\":%d,\"accept_s\":%.3f,\"server_rss_before_kib\":%ld,"
                "\"server_rss_after_kib\":%ld,\"rss_per_client_kib\":%.2f,"
                "\"server_hwm_kib\":%ld}\n",
                transport, o.clients, n, clients.failed(), accept_s, rss_before, rss_after,
                n > 0 ? static_cast<double>(rss_after - rss_before) / n : 0.0,
                process_status_kib(server_pid, "VmHWM"));
    return n == o.clients ? 0 : 1;
  }
  if (clients.streaming() < o.clients)
    std::fprintf(stderr, "ib-stream-bench: only %d of %d clients connected\n", clients.streaming(),
                 o.clients);

  const auto pause_and_settle = [&] {
    source.set_rate(0);
    std::this_thread::sleep_for(30ms); // a batch being written lands in last_seqs
  };
  // Steps: (clients' feed rate per upstream, tracked contracts' total rate).
  std::vector<std::pair<double, double>> steps;
  if (o.scenario == "record")
    for (const double t : o.track_rates) steps.emplace_back(o.rates.front(), t);
  else
    for (const double r : o.rates) steps.emplace_back(r, 0.0);
  for (const auto& [rate, track_rate] : steps) {
    if (tracked > 0) {
      // Each step starts from an empty queue: the backlog of a step the
      // recorder did not keep up with is not the next step's.
      wait_for(
          [&] {
            const auto s = sample_tracked(port);
            return s.ok && s.pending_ticks == 0 && s.lag_ticks == 0;
          },
          60s);
      for (int i = 0; i < tracked; ++i)
        feed->set_contract_rate(kFirstTrackedConId + i, track_rate / tracked);
      std::this_thread::sleep_for(1s); // the recorder reaches its steady state
    }
    // Warm-up at the rate, then pause: the window starts from a quiet stream.
    source.set_rate(rate);
    std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup));
    pause_and_settle();
    std::this_thread::sleep_for(200ms);
    const auto base = source.last_seqs();
    clients.start_window(base);
    const double server_cpu0 = process_cpu_seconds(server_pid);
    const double self_cpu0 = own_cpu_seconds();
    const double lg_cpu0 = clients.cpu_seconds();
    const std::uint64_t allocs0 = allocs ? allocs->allocations() : 0;
    std::optional<RecorderWatch> recorder;
    if (tracked > 0) recorder.emplace(port);
    const std::uint64_t t0 = now_ns();
    source.set_rate(rate);
    std::this_thread::sleep_for(std::chrono::duration<double>(o.duration));
    source.set_rate(0);
    std::string record_fields;
    bool recorder_sustained = true;
    if (recorder) {
      record_fields = recorder->finish();
      const auto track_end = source.last_seqs();
      const double track_seconds = static_cast<double>(now_ns() - t0) / 1e9;
      const double fed =
          static_cast<double>(total_over(track_end, base, kFirstTrackedConId, tracked)) /
          track_seconds;
      // Sustained: the feed kept the rate, every tick fed was committed
      // within the window (5% for the batch in flight), the oldest waiting
      // tick never waited a second, no gap opened, the recorder stayed ok.
      recorder_sustained = recorder->ok() && recorder->gaps_opened() == 0 &&
                           recorder->lag_seconds() <= 1.0 && fed >= 0.95 * track_rate &&
                           recorder->recorded_per_s() >= 0.95 * fed;
      char buf[192];
      std::snprintf(buf, sizeof buf,
                    ",\"track_upstreams\":%d,\"track_rate\":%.0f,\"track_fed_per_s\":%.0f,"
                    "\"recorder_sustained\":%s,",
                    tracked, track_rate, fed, recorder_sustained ? "true" : "false");
      record_fields = buf + record_fields;
      for (int i = 0; i < tracked; ++i) feed->set_contract_rate(kFirstTrackedConId + i, 0);
    }
    const double seconds = static_cast<double>(now_ns() - t0) / 1e9;
    const double server_cpu = (process_cpu_seconds(server_pid) - server_cpu0) / seconds;
    const double self_cpu = (own_cpu_seconds() - self_cpu0) / seconds;
    const double lg_cpu = (clients.cpu_seconds() - lg_cpu0) / seconds;
    const std::uint64_t window_allocs = allocs ? allocs->allocations() - allocs0 : 0;
    std::this_thread::sleep_for(30ms);
    const auto end = source.last_seqs();
    wait_for(
        [&] {
          auto w = clients.window(end);
          return w.delivered >= w.expected;
        },
        3s);
    const WindowStats w = clients.window(end);
    const std::uint64_t sent = total_over(end, base, kFirstConId, o.upstreams);
    const std::uint64_t drops = w.expected > w.delivered ? w.expected - w.delivered : 0;
    const double p99_ms = static_cast<double>(w.latency.quantile(0.99)) / 1e6;
    const double target = rate * o.upstreams;
    // Small windows lose a tick or two per contract to rounding: allow for it.
    const bool feed_kept_up =
        static_cast<double>(sent + 2 * static_cast<std::uint64_t>(o.upstreams)) >=
        0.95 * target * seconds;
    // Sustained: every tick reached every client and the feed kept its rate;
    // clean: sustained with p99 within the target.
    const bool sustained = drops == 0 && w.gaps == 0 && clients.failed() == 0 && feed_kept_up &&
                           w.delivered > 0 && p99_ms <= o.stop_p99_ms;
    const bool clean = sustained && p99_ms <= o.max_p99_ms;
    char alloc_fields[96] = "\"allocs\":null,\"allocs_per_delivered\":null";
    if (allocs && w.delivered > 0)
      std::snprintf(alloc_fields, sizeof alloc_fields,
                    "\"allocs\":%llu,\"allocs_per_delivered\":%.6g",
                    static_cast<unsigned long long>(window_allocs),
                    static_cast<double>(window_allocs) / static_cast<double>(w.delivered));
    else if (allocs)
      std::snprintf(alloc_fields, sizeof alloc_fields,
                    "\"allocs\":%llu,\"allocs_per_delivered\":null",
                    static_cast<unsigned long long>(window_allocs));
    std::printf(
        "{\"scenario\":\"%s\",\"transport\":\"%s\",\"clients\":%d,\"upstreams\":%d,"
        "\"rate\":%.0f,\"seconds\":%.3f,\"sent\":%llu,\"feed_rate\":%.0f,\"delivered\":%llu,"
        "\"delivered_per_s\":%.0f,\"expected\":%llu,\"drops\":%llu,\"gaps\":%llu,"
        "\"failed_clients\":%d,\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,"
        "\"max_us\":%.1f,\"server_cpu\":%.3f,\"harness_cpu\":%.3f,\"loadgen_cpu\":%.3f,"
        "\"server_hwm_kib\":%ld,\"mib_per_s\":%.1f,%s%s,\"sustained\":%s,\"clean\":%s}\n",
        o.scenario.c_str(), transport, o.clients, o.upstreams, rate, seconds,
        static_cast<unsigned long long>(sent), static_cast<double>(sent) / seconds,
        static_cast<unsigned long long>(w.delivered), static_cast<double>(w.delivered) / seconds,
        static_cast<unsigned long long>(w.expected), static_cast<unsigned long long>(drops),
        static_cast<unsigned long long>(w.gaps), clients.failed(),
        static_cast<double>(w.latency.quantile(0.5)) / 1e3,
        static_cast<double>(w.latency.quantile(0.99)) / 1e3,
        static_cast<double>(w.latency.quantile(0.999)) / 1e3,
        static_cast<double>(w.latency.max()) / 1e3, server ? server_cpu : 0.0, self_cpu, lg_cpu,
        server ? process_status_kib(server_pid, "VmHWM") : 0L,
        static_cast<double>(w.bytes) / seconds / (1024.0 * 1024.0), alloc_fields,
        record_fields.c_str(), sustained ? "true" : "false", clean ? "true" : "false");
    std::fflush(stdout);
    if (!(sustained && recorder_sustained) && o.stop_on_fail) break;
  }
  if (tracked > 0) print_record_total(*feed, port, tracked);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv), argv[0]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ib-stream-bench: %s\n", e.what());
    return 1;
  }
}

#include "scaleout_scenario.hpp"

#include "http_client.hpp"
#include "nats_process.hpp"
#include "proc_stats.hpp"
#include "server_process.hpp"
#include "stamped_tick.hpp"
#include "tws_feed.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace bench {
namespace {

using namespace std::chrono_literals;

constexpr int kConId = 1001; // the one contract every client reads

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

/// One server node with its clients (none for a publisher read by no one).
struct Node {
  std::string name;
  std::unique_ptr<ServerProcess> process;
  std::unique_ptr<LoadGenerator> clients;
  int n = 0;
};

std::vector<std::string> common_args(const ScaleoutConfig& c) {
  return {"--log-level",
          "warn",
          "--max-clients",
          std::to_string(std::max(10000, c.clients + c.pub_clients + 100)),
          "--max-streams",
          "50",
          "--buffer-size",
          std::to_string(c.buffer_size),
          "--ws-max-connections-per-ip",
          "100000",
          "--drain-seconds",
          "0"};
}

std::string node_dir(const ScaleoutConfig& c, const std::string& name) {
  const auto dir = std::filesystem::path(c.data_dir) / name;
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::string node_log(const ScaleoutConfig& c, const std::string& name) {
  return c.server_log.empty() ? "" : c.server_log + "." + name;
}

/// The publisher's ticks_published and publish_failures (GET /health).
std::pair<std::uint64_t, std::uint64_t> published(std::uint16_t port) {
  const auto r = http_get(port, "/health");
  return {json_count(r.body, "ticks_published").value_or(0),
          json_count(r.body, "publish_failures").value_or(0)};
}

void start_clients(Node& node, const ScaleoutConfig& c, int n) {
  node.n = n;
  if (n == 0) return;
  std::vector<ClientSpec> specs;
  const std::string path = std::string(c.transport == Transport::ws ? "/ws/stream/" : "/stream/") +
                           std::to_string(kConId) + "/BidAsk";
  for (int i = 0; i < n; ++i) specs.push_back({path, kConId});
  node.clients =
      std::make_unique<LoadGenerator>(node.process->port(), c.transport, std::move(specs));
}

/// The latency fields of a group of clients: prefix + p50_us, p99_us, ...
std::string latency_fields(const std::string& prefix, const WindowStats& w) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "\"%sp50_us\":%.1f,\"%sp99_us\":%.1f,\"%sp999_us\":%.1f,\"%smax_us\":%.1f",
                prefix.c_str(), static_cast<double>(w.latency.quantile(0.5)) / 1e3, prefix.c_str(),
                static_cast<double>(w.latency.quantile(0.99)) / 1e3, prefix.c_str(),
                static_cast<double>(w.latency.quantile(0.999)) / 1e3, prefix.c_str(),
                static_cast<double>(w.latency.max()) / 1e3);
  return buf;
}

} // namespace

int run_scaleout(const ScaleoutConfig& c) {
  if (c.edges < 1 || c.clients < 0 || c.pub_clients < 0 || c.clients + c.pub_clients < 1)
    throw std::invalid_argument("scaleout: --edges >= 1 and at least one client");
  now_ns(); // the harness epoch
  NatsProcess nats(c.nats_server, node_dir(c, "nats"), node_log(c, "nats"));
  TwsFeed feed;
  std::vector<Node> nodes; // [0] the publisher, then the edges
  {
    auto args = common_args(c);
    args.insert(args.end(),
                {"--nats", nats.url(), "--role", "publisher", "--node-name", "pub-a", "--data-dir",
                 node_dir(c, "pub-a"), "--ports", std::to_string(feed.port()), "--client-id", "7"});
    nodes.push_back(
        {"pub-a", std::make_unique<ServerProcess>(c.server, std::move(args), node_log(c, "pub-a")),
         nullptr, 0});
  }
  for (int e = 1; e <= c.edges; ++e) {
    const std::string name = "edge-" + std::to_string(e);
    auto args = common_args(c);
    args.insert(args.end(), {"--nats", nats.url(), "--role", "edge", "--node-name", name,
                             "--data-dir", node_dir(c, name)});
    nodes.push_back({name,
                     std::make_unique<ServerProcess>(c.server, std::move(args), node_log(c, name)),
                     nullptr, 0});
  }
  // The edges' clients first: an edge asks the publisher to open the stream.
  for (std::size_t i = 1; i < nodes.size(); ++i) start_clients(nodes[i], c, c.clients);
  start_clients(nodes[0], c, c.pub_clients);
  int wanted = 0, streaming = 0;
  for (auto& node : nodes) {
    if (!node.clients) continue;
    wait_until([&] { return node.clients->streaming() + node.clients->failed() >= node.n; }, 120s);
    wanted += node.n;
    streaming += node.clients->streaming();
  }
  if (streaming < wanted)
    std::fprintf(stderr, "ib-stream-bench: only %d of %d clients connected\n", streaming, wanted);
  if (!wait_until([&] { return feed.subscriptions() >= 1; }, 20s))
    throw std::runtime_error("scaleout: the publisher never subscribed at the feed");

  const auto for_clients = [&](const std::function<void(Node&)>& f) {
    for (auto& node : nodes)
      if (node.clients) f(node);
  };
  const auto caught_up = [&](const std::map<int, std::uint64_t>& end) {
    bool all = true;
    for_clients([&](Node& node) {
      const auto w = node.clients->window(end);
      all = all && w.delivered >= w.expected;
    });
    return all;
  };
  const char* transport = c.transport == Transport::ws ? "ws" : "sse";
  for (const double rate : c.rates) {
    // Warm-up at the rate, then pause until every client has every tick:
    // the window starts from a quiet, drained pipeline.
    const auto warm_base = feed.last_seqs();
    for_clients([&](Node& node) { node.clients->start_window(warm_base); });
    feed.set_rate(rate);
    std::this_thread::sleep_for(std::chrono::duration<double>(c.warmup));
    feed.set_rate(0);
    std::this_thread::sleep_for(30ms);
    const auto warm_end = feed.last_seqs();
    wait_until([&] { return caught_up(warm_end); }, 10s);
    std::this_thread::sleep_for(100ms);

    const auto base = feed.last_seqs();
    for_clients([&](Node& node) { node.clients->start_window(base); });
    std::vector<double> cpu0;
    for (auto& node : nodes) cpu0.push_back(process_cpu_seconds(node.process->pid()));
    const double nats_cpu0 = process_cpu_seconds(nats.pid());
    const double self_cpu0 = own_cpu_seconds();
    double lg_cpu0 = 0;
    for_clients([&](Node& node) { lg_cpu0 += node.clients->cpu_seconds(); });
    const auto nats0 = nats.counters();
    const auto to_edges0 = nats.traffic_to("ib-stream edge ");
    const auto pub0 = published(nodes[0].process->port());
    const std::uint64_t t0 = now_ns();
    feed.set_rate(rate);
    std::this_thread::sleep_for(std::chrono::duration<double>(c.duration));
    feed.set_rate(0);
    const double seconds = static_cast<double>(now_ns() - t0) / 1e9;
    std::vector<double> cpu;
    for (std::size_t i = 0; i < nodes.size(); ++i)
      cpu.push_back((process_cpu_seconds(nodes[i].process->pid()) - cpu0[i]) / seconds);
    const double nats_cpu = (process_cpu_seconds(nats.pid()) - nats_cpu0) / seconds;
    const double self_cpu = (own_cpu_seconds() - self_cpu0) / seconds;
    double lg_cpu = -lg_cpu0;
    for_clients([&](Node& node) { lg_cpu += node.clients->cpu_seconds(); });
    lg_cpu /= seconds;
    std::this_thread::sleep_for(30ms);
    const auto end = feed.last_seqs();
    wait_until([&] { return caught_up(end); }, 5s);
    const auto nats1 = nats.counters();
    const auto to_edges1 = nats.traffic_to("ib-stream edge ");
    const auto pub1 = published(nodes[0].process->port());

    // The edges' clients together, and the publisher's apart.
    WindowStats edges, pub;
    int failed = 0;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (!nodes[i].clients) continue;
      const auto w = nodes[i].clients->window(end);
      WindowStats& into = i == 0 ? pub : edges;
      into.latency.merge(w.latency);
      into.delivered += w.delivered;
      into.expected += w.expected;
      into.gaps += w.gaps;
      into.bytes += w.bytes;
      failed += nodes[i].clients->failed();
    }
    const auto end_it = end.find(kConId);
    const auto base_it = base.find(kConId);
    const std::uint64_t sent =
        (end_it == end.end() ? 0 : end_it->second) - (base_it == base.end() ? 0 : base_it->second);
    const std::uint64_t drops =
        edges.expected > edges.delivered ? edges.expected - edges.delivered : 0;
    const std::uint64_t pub_drops = pub.expected > pub.delivered ? pub.expected - pub.delivered : 0;
    const double p99_ms =
        static_cast<double>(std::max(edges.latency.quantile(0.99), pub.latency.quantile(0.99))) /
        1e6;
    const bool feed_kept_up = static_cast<double>(sent + 2) >= 0.95 * rate * seconds;
    const bool sustained = drops == 0 && pub_drops == 0 && edges.gaps == 0 && pub.gaps == 0 &&
                           failed == 0 && feed_kept_up && edges.delivered + pub.delivered > 0 &&
                           p99_ms <= c.stop_p99_ms;
    const bool clean = sustained && p99_ms <= c.max_p99_ms;
    double edge_cpu = 0, edge_cpu_max = 0;
    for (std::size_t i = 1; i < nodes.size(); ++i) {
      edge_cpu += cpu[i];
      edge_cpu_max = std::max(edge_cpu_max, cpu[i]);
    }
    const auto delta = [&](std::uint64_t a, std::uint64_t b) {
      return static_cast<unsigned long long>(nats0.ok && nats1.ok && b > a ? b - a : 0);
    };
    const auto since = [](std::uint64_t a, std::uint64_t b) {
      return static_cast<unsigned long long>(b > a ? b - a : 0);
    };
    std::printf(
        "{\"scenario\":\"scaleout\",\"transport\":\"%s\",\"edges\":%d,\"clients\":%d,"
        "\"pub_clients\":%d,\"upstreams\":1,\"rate\":%.0f,\"seconds\":%.3f,\"sent\":%llu,"
        "\"feed_rate\":%.0f,\"delivered\":%llu,\"delivered_per_s\":%.0f,\"expected\":%llu,"
        "\"drops\":%llu,\"gaps\":%llu,\"failed_clients\":%d,%s,\"pub_delivered\":%llu,"
        "\"pub_drops\":%llu,%s,\"publisher_cpu\":%.3f,\"nats_cpu\":%.3f,\"edge_cpu\":%.3f,"
        "\"edge_cpu_max\":%.3f,\"harness_cpu\":%.3f,\"loadgen_cpu\":%.3f,\"published\":%llu,"
        "\"publish_failures\":%llu,\"nats_in_msgs\":%llu,\"nats_out_msgs\":%llu,"
        "\"nats_in_bytes\":%llu,\"nats_out_bytes\":%llu,\"edge_connections\":%d,"
        "\"edge_msgs\":%llu,\"edge_msg_bytes\":%llu,\"edge_wire_bytes\":%llu,"
        "\"mib_per_s\":%.1f,\"sustained\":%s,\"clean\":%s}\n",
        transport, c.edges, c.clients, c.pub_clients, rate, seconds,
        static_cast<unsigned long long>(sent), static_cast<double>(sent) / seconds,
        static_cast<unsigned long long>(edges.delivered),
        static_cast<double>(edges.delivered) / seconds,
        static_cast<unsigned long long>(edges.expected), static_cast<unsigned long long>(drops),
        static_cast<unsigned long long>(edges.gaps + pub.gaps), failed,
        latency_fields("", edges).c_str(), static_cast<unsigned long long>(pub.delivered),
        static_cast<unsigned long long>(pub_drops), latency_fields("pub_", pub).c_str(), cpu[0],
        nats_cpu, edge_cpu, edge_cpu_max, self_cpu, lg_cpu,
        static_cast<unsigned long long>(pub1.first - pub0.first),
        static_cast<unsigned long long>(pub1.second - pub0.second),
        delta(nats0.in_msgs, nats1.in_msgs), delta(nats0.out_msgs, nats1.out_msgs),
        delta(nats0.in_bytes, nats1.in_bytes), delta(nats0.out_bytes, nats1.out_bytes),
        to_edges1.connections, since(to_edges0.msgs, to_edges1.msgs),
        since(to_edges0.msg_bytes, to_edges1.msg_bytes),
        since(to_edges0.wire_bytes, to_edges1.wire_bytes),
        static_cast<double>(edges.bytes + pub.bytes) / seconds / (1024.0 * 1024.0),
        sustained ? "true" : "false", clean ? "true" : "false");
    std::fflush(stdout);
    if (!sustained && c.stop_on_fail) break;
  }
  // Clients go before their servers, the servers before nats-server.
  for (auto& node : nodes) node.clients.reset();
  while (!nodes.empty()) nodes.pop_back();
  return 0;
}

} // namespace bench

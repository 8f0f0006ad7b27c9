// GET /metrics (README "Metrics"): the Prometheus text format (HELP, TYPE,
// label escaping, histograms), the families rendered from a Hub snapshot,
// route templates, /proc parsing and the IB_STREAM_METRICS* settings.
#include "http/metrics_endpoint.hpp"
#include "http/metrics_registry.hpp"
#include "http/process_metrics.hpp"
#include "http/router.hpp"
#include "http/server_config.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <sstream>

namespace {

using http::MetricsText;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  for (const auto& l : lines_of(text))
    if (l == line) return true;
  return false;
}

TEST(MetricsText, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(http::escape_label_value(R"(a\b"c)"
                                     "\n"
                                     "d"),
            R"(a\\b\"c\nd)");
  EXPECT_EQ(http::escape_help("back\\slash \"quoted\"\nnext"), "back\\\\slash \"quoted\"\\nnext");
  MetricsText m;
  m.family("x_total", "counter", "Help with a \\ and\na line feed.");
  m.sample("x_total", {{"route", "/a\"b"}, {"status", "200"}}, 3);
  EXPECT_EQ(m.text(), "# HELP x_total Help with a \\\\ and\\na line feed.\n"
                      "# TYPE x_total counter\n"
                      "x_total{route=\"/a\\\"b\",status=\"200\"} 3\n");
}

TEST(MetricsText, Values) {
  EXPECT_EQ(http::format_value(0), "0");
  EXPECT_EQ(http::format_value(12345678901.0), "12345678901");
  EXPECT_EQ(http::format_value(0.25), "0.25");
  EXPECT_EQ(http::format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(http::format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(http::format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  MetricsText m;
  m.sample("g", {}, 1.5);
  EXPECT_EQ(m.text(), "g 1.5\n");
}

TEST(Histogram, BucketsAreCumulativeWithInfSumAndCount) {
  http::Histogram h{0.001, 0.01, 0.1};
  h.observe_ns(500'000);       // 0.5 ms -> le 0.001
  h.observe_ns(1'000'000);     // exactly 1 ms -> le 0.001 (upper bound inclusive)
  h.observe_ns(5'000'000);     // 5 ms -> le 0.01
  h.observe_ns(2'000'000'000); // 2 s -> +Inf only
  h.observe_ns(-7);            // a clock step: counted as 0
  const auto s = h.snapshot();
  EXPECT_EQ(s.counts, (std::vector<std::uint64_t>{3, 4, 4, 5}));
  EXPECT_EQ(s.count(), 5u);
  EXPECT_NEAR(s.sum_seconds, 2.0065, 1e-9);

  MetricsText m;
  m.family("lat_seconds", "histogram", "Latency.");
  m.histogram("lat_seconds", {{"k", "v"}}, s);
  const auto text = m.text();
  EXPECT_TRUE(has_line(text, "lat_seconds_bucket{k=\"v\",le=\"0.001\"} 3")) << text;
  EXPECT_TRUE(has_line(text, "lat_seconds_bucket{k=\"v\",le=\"0.01\"} 4")) << text;
  EXPECT_TRUE(has_line(text, "lat_seconds_bucket{k=\"v\",le=\"0.1\"} 4")) << text;
  EXPECT_TRUE(has_line(text, "lat_seconds_bucket{k=\"v\",le=\"+Inf\"} 5")) << text;
  EXPECT_TRUE(has_line(text, "lat_seconds_sum{k=\"v\"} 2.0065")) << text;
  EXPECT_TRUE(has_line(text, "lat_seconds_count{k=\"v\"} 5")) << text;
  // Buckets first, +Inf last, then _sum and _count.
  const auto l = lines_of(text);
  ASSERT_EQ(l.size(), 2u + 4u + 2u);
  EXPECT_NE(l[5].find("le=\"+Inf\""), std::string::npos);
  EXPECT_EQ(l[6].rfind("lat_seconds_sum", 0), 0u);
  EXPECT_EQ(l[7].rfind("lat_seconds_count", 0), 0u);
}

TEST(Histogram, DeliveryBucketsSpan10usTo1s) {
  const std::vector<double> b(http::kDeliveryLatencyBuckets);
  EXPECT_DOUBLE_EQ(b.front(), 0.00001);
  EXPECT_DOUBLE_EQ(b.back(), 1.0);
  EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
}

TEST(RouteTemplate, ParametersAreNamedNeverRaw) {
  const auto t = [](std::string_view method, std::string_view target) {
    return http::route_template(http::route_request(method, target));
  };
  EXPECT_EQ(t("GET", "/stream/265598/BidAsk?limit=5"), "/stream/{contract_id}/{tick_type}");
  EXPECT_EQ(t("GET", "/stream/AAPL?tick_type=Last"), "/stream/{contract_id}");
  EXPECT_EQ(t("DELETE", "/stream/265598"), "/stream/{contract_id}");
  EXPECT_EQ(t("GET", "/stream/265598/265598"), "/stream/{contract_id}/{tick_type}");
  EXPECT_EQ(t("GET", "/stream/active"), "/stream/active");
  EXPECT_EQ(t("DELETE", "/stream/all"), "/stream/all");
  EXPECT_EQ(t("GET", "/ws/stream/265598/multi"), "/ws/stream/{contract_id}/multi");
  EXPECT_EQ(t("GET", "/ws/stream/265598/Last"), "/ws/stream/{contract_id}/{tick_type}");
  EXPECT_EQ(t("GET", "/history/265598/BidAsk?format=csv"), "/history/{contract_id}/{tick_type}");
  EXPECT_EQ(t("GET", "/history/265598"), "/history/{contract_id}");
  EXPECT_EQ(t("GET", "/replay/ES:FUT:CME:USD:202703"), "/replay/{contract_id}");
  EXPECT_EQ(t("POST", "/tracked/265598?tick_types=Last"), "/tracked/{contract_id}");
  EXPECT_EQ(t("GET", "/contracts/AAPL/status"), "/contracts/{contract}/status");
  EXPECT_EQ(t("GET", "/contracts/search?symbol=ES"), "/contracts/search");
  EXPECT_EQ(t("GET", "/metrics"), "/metrics");
  EXPECT_EQ(t("GET", "/"), "/");
  EXPECT_EQ(t("OPTIONS", "/stream/1/Last"), "/stream/{contract_id}/{tick_type}");
  EXPECT_EQ(t("PUT", "/health"), "/health"); // 405: the path is known
  // Unknown paths are one label value, whatever they are.
  EXPECT_EQ(t("GET", "/no/such/thing"), "other");
  EXPECT_EQ(t("GET", "/wp-admin.php"), "other");
  EXPECT_EQ(t("GET", "http://x/y"), "other");
}

TEST(RouteTemplate, FromTheAccessLogsDecodedPath) {
  EXPECT_EQ(http::route_template("GET", "/stream/BRK B/Last"), "/stream/{contract_id}/{tick_type}");
  EXPECT_EQ(http::route_template("GET", "/history/100%/Last"),
            "/history/{contract_id}/{tick_type}");
  EXPECT_EQ(http::route_template("-", "-"), "other"); // a malformed request
}

TEST(RouteTemplate, RequestsAreCountedByTemplateAndStatus) {
  http::RequestCounter c;
  c.add("/stream/{contract_id}", 200);
  c.add("/stream/{contract_id}", 200);
  c.add("/stream/{contract_id}", 404);
  const auto s = c.snapshot();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].first, (std::pair<std::string, int>{"/stream/{contract_id}", 200}));
  EXPECT_EQ(s[0].second, 2u);
  EXPECT_EQ(s[1].second, 1u);
}

TEST(RenderMetrics, EveryFamilyHasHelpAndTypeAndStreamsTheirLabels) {
  http::MetricsInputs in;
  in.hub.tws.connected = true;
  in.hub.tws.reconnects = 2;
  stream::HubSnapshot::Upstream u;
  u.con_id = 265598;
  u.tick_type = "BidAsk";
  u.state = "live";
  u.ticks = 120;
  u.ticks_sent = 300;
  u.dropped = 7;
  u.slow_consumer_ends = 1;
  u.clients = 3;
  in.hub.upstreams.push_back(u);
  stream::HubSnapshot::ClientInfo sse, ws;
  sse.transport = "sse";
  ws.transport = "ws";
  in.hub.clients = {sse, sse, ws};
  in.tws_messages = {{99, 120}, {4, 3}, {200, 1}};
  in.http_requests = {{{"/stream/{contract_id}/{tick_type}", 200}, 4}};
  in.recorder = true;
  record::TrackedStatus t;
  t.con_id = 711280073;
  t.tick_type = tws::TickType::last;
  t.ticks_recorded = 50;
  t.backfilled = 9;
  t.lag_ticks = 2;
  t.lag_seconds = 0.5;
  in.tracked.push_back(t);
  in.recorder_health.write_errors = 4;
  in.process = http::ProcessStats{1.5, 4096, 8192, 12, 1024, 1700000000.25};
  const std::string text = http::render_metrics(in);

  // Every sample's family has exactly one HELP and one TYPE, before it.
  std::map<std::string, int> help, type;
  for (const auto& l : lines_of(text)) {
    if (l.rfind("# HELP ", 0) == 0) ++help[l.substr(7, l.find(' ', 7) - 7)];
    else if (l.rfind("# TYPE ", 0) == 0) ++type[l.substr(7, l.find(' ', 7) - 7)];
    else {
      ASSERT_FALSE(l.empty());
      std::string name = l.substr(0, l.find_first_of("{ "));
      for (const char* suffix : {"_bucket", "_sum", "_count"})
        if (!type.count(name) && name.size() > std::strlen(suffix) && name.ends_with(suffix))
          name.resize(name.size() - std::strlen(suffix));
      EXPECT_EQ(type[name], 1) << l;
      EXPECT_EQ(help[name], 1) << l;
    }
  }
  for (const auto& [name, n] : type) {
    EXPECT_EQ(n, 1) << name;
    EXPECT_TRUE(name.rfind("ib_stream_", 0) == 0 || name.rfind("process_", 0) == 0) << name;
  }

  EXPECT_TRUE(has_line(text, "ib_stream_tws_connected 1"));
  EXPECT_TRUE(has_line(text, "ib_stream_tws_reconnects_total 2"));
  EXPECT_TRUE(has_line(text, "ib_stream_tws_messages_received_total{type=\"tick_by_tick\"} 120"));
  EXPECT_TRUE(has_line(text, "ib_stream_tws_messages_received_total{type=\"err_msg\"} 3"));
  EXPECT_TRUE(has_line(text, "ib_stream_tws_messages_received_total{type=\"id_200\"} 1"));
  EXPECT_TRUE(has_line(text, "ib_stream_upstream_streams{state=\"live\"} 1"));
  EXPECT_TRUE(has_line(text, "ib_stream_upstream_streams{state=\"stale\"} 0"));
  const std::string s = "{contract_id=\"265598\",tick_type=\"BidAsk\"}";
  EXPECT_TRUE(has_line(text, "ib_stream_ticks_received_total" + s + " 120"));
  EXPECT_TRUE(has_line(text, "ib_stream_ticks_delivered_total" + s + " 300"));
  EXPECT_TRUE(has_line(text, "ib_stream_ticks_dropped_total" + s + " 7"));
  EXPECT_TRUE(has_line(text, "ib_stream_slow_consumer_ends_total" + s + " 1"));
  EXPECT_TRUE(has_line(text, "ib_stream_stream_clients" + s + " 3"));
  EXPECT_TRUE(has_line(text, "ib_stream_clients{transport=\"sse\"} 2"));
  EXPECT_TRUE(has_line(text, "ib_stream_clients{transport=\"websocket\"} 1"));
  EXPECT_TRUE(has_line(text, "ib_stream_http_requests_total{route=\"/stream/{contract_id}/"
                             "{tick_type}\",status=\"200\"} 4"));
  EXPECT_TRUE(has_line(text, "ib_stream_delivery_latency_seconds_count 0"));
  EXPECT_TRUE(has_line(text, "ib_stream_recorder_rows_total{contract_id=\"711280073\",tick_type="
                             "\"Last\",source=\"live\"} 50"));
  EXPECT_TRUE(has_line(text, "ib_stream_recorder_rows_total{contract_id=\"711280073\",tick_type="
                             "\"Last\",source=\"backfill\"} 9"));
  EXPECT_TRUE(has_line(text, "ib_stream_recorder_lag_seconds{contract_id=\"711280073\",tick_type="
                             "\"Last\"} 0.5"));
  EXPECT_TRUE(has_line(text, "ib_stream_recorder_write_errors_total 4"));
  EXPECT_TRUE(has_line(text, "process_cpu_seconds_total 1.5"));
  EXPECT_TRUE(has_line(text, "process_open_fds 12"));
  EXPECT_TRUE(has_line(text, "process_start_time_seconds 1700000000.25"));
  EXPECT_EQ(text.back(), '\n');
}

TEST(RenderMetrics, AStreamThatEndedHasNoSeries) {
  http::MetricsInputs in;
  const std::string text = http::render_metrics(in);
  EXPECT_EQ(text.find("contract_id="), std::string::npos);
  // The families are still described (and empty).
  EXPECT_NE(text.find("# TYPE ib_stream_ticks_received_total counter"), std::string::npos);
  EXPECT_EQ(text.find("ib_stream_recorder_rows_total"), std::string::npos); // no recorder
}

TEST(ProcessMetrics, ParsesProcStat) {
  // A comm with spaces and a ')' (fields after the last ')' count).
  const std::string stat = "4242 (ib (x) srv) S 1 4242 4242 0 -1 4194560 500 0 0 0 "
                           "250 50 0 0 20 0 9 0 12345 104857600 2560 18446744073709551615 "
                           "1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  const auto s = http::parse_proc_stat(stat, 1700000000, 100, 4096);
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 3.0);                        // (250 + 50) / 100
  EXPECT_DOUBLE_EQ(s->start_time_seconds, 1700000000 + 123.45); // 12345 / 100 after boot
  EXPECT_EQ(s->virtual_bytes, 104857600u);
  EXPECT_EQ(s->resident_bytes, 2560u * 4096u);
  EXPECT_FALSE(http::parse_proc_stat("garbage", 0, 100, 4096));
  EXPECT_FALSE(http::parse_proc_stat("1 (x) S 1 2 3", 0, 100, 4096));
}

TEST(ProcessMetrics, ReadsThisProcess) {
  const auto s = http::read_process_stats();
  ASSERT_TRUE(s);
  EXPECT_GT(s->resident_bytes, 0u);
  EXPECT_GE(s->open_fds, 3u); // stdin, stdout, stderr
  EXPECT_GT(s->start_time_seconds, 1e9);
}

using Flags = std::vector<std::pair<std::string, std::string>>;

std::variant<http::ServerConfig, std::string> load(std::map<std::string, std::string> env,
                                                   Flags flags = {}) {
  return http::load_server_config(
      [env](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
      },
      flags);
}

TEST(MetricsSettings, OnByDefaultPublicOff) {
  const auto c = std::get<http::ServerConfig>(load({}));
  EXPECT_TRUE(c.metrics);
  EXPECT_FALSE(c.metrics_public);
}

TEST(MetricsSettings, EnvironmentAndFlags) {
  for (const char* off : {"0", "false", "off", "OFF", "no"})
    EXPECT_FALSE(std::get<http::ServerConfig>(load({{"IB_STREAM_METRICS", off}})).metrics) << off;
  EXPECT_TRUE(std::get<http::ServerConfig>(load({{"IB_STREAM_METRICS", "true"}})).metrics);
  EXPECT_TRUE(
      std::get<http::ServerConfig>(load({{"IB_STREAM_METRICS_PUBLIC", "1"}})).metrics_public);
  // The flag wins; alone it means on.
  EXPECT_TRUE(
      std::get<http::ServerConfig>(load({{"IB_STREAM_METRICS", "off"}}, {{"--metrics", "on"}}))
          .metrics);
  EXPECT_TRUE(std::get<http::ServerConfig>(load({}, {{"--metrics-public", ""}})).metrics_public);
  const auto bad = load({{"IB_STREAM_METRICS", "maybe"}});
  ASSERT_TRUE(std::holds_alternative<std::string>(bad));
  EXPECT_EQ(std::get<std::string>(bad),
            "IB_STREAM_METRICS='maybe' is invalid: must be 1, true, on, yes or 0, false, off, no");
  const auto empty = load({{"IB_STREAM_METRICS_PUBLIC", ""}});
  ASSERT_TRUE(std::holds_alternative<std::string>(empty));
  EXPECT_NE(std::get<std::string>(empty).find("IB_STREAM_METRICS_PUBLIC=''"), std::string::npos);
}

TEST(MetricsSettings, CommandLineSwitchOrValue) {
  auto cl = std::get<http::CommandLine>(
      http::parse_command_line({"--metrics-public", "--simulate", "--metrics", "off"}));
  EXPECT_EQ(cl.flags, (Flags{{"--metrics-public", ""}, {"--simulate", ""}, {"--metrics", "off"}}));
  const auto c = std::get<http::ServerConfig>(load({}, cl.flags));
  EXPECT_TRUE(c.metrics_public);
  EXPECT_FALSE(c.metrics);
  cl = std::get<http::CommandLine>(http::parse_command_line({"--metrics=false"}));
  EXPECT_FALSE(std::get<http::ServerConfig>(load({}, cl.flags)).metrics);
  EXPECT_NE(http::server_usage().find("IB_STREAM_METRICS_PUBLIC"), std::string::npos);
}

} // namespace

// ib-tws-sim: the TWS / IB Gateway simulator (see src/sim/simulator.hpp).
//
//   ib-tws-sim [--port P] [--seed N] [--admin-port P] [--start-time UNIX]
//              [--rate EV_PER_S] [--contract-rate CONID=RATE ...]
//              [--server-version V] [--max-tick-by-tick N] [--pacing-limit N]
//              [--client-id-hold SECONDS] [--request-log FILE] [--bind ADDR]
//              [--clock subscription|wall] [--hist-pacing ib|off]
//              [--hours always|real]
//   ib-tws-sim --dump CONID [--count N | --from UNIX --to UNIX] [--seed S]
//              [--start-time T] [--rate R]
//
// Serving: prints one JSON line {"event":"listening",...} on stdout once the
// ports are bound, then runs until SIGINT/SIGTERM (exit 0). Logs go to
// stderr. --dump prints the seeded market's first ticks instead (format in
// src/sim/market_dump.hpp) and exits.
#include "sim/contract_catalog.hpp"
#include "sim/market_dump.hpp"
#include "sim/simulator.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

namespace {

std::int64_t wall_clock_unix() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

/// "CONID=RATE" -> (conId, rate); throws CLI::ValidationError.
std::pair<int, double> parse_contract_rate(const std::string& text) {
  const auto eq = text.find('=');
  int con_id = 0;
  double rate = 0;
  bool ok = eq != std::string::npos && eq > 0;
  if (ok) {
    const char* b = text.data();
    const auto [p1, e1] = std::from_chars(b, b + eq, con_id);
    const auto [p2, e2] = std::from_chars(b + eq + 1, b + text.size(), rate);
    ok = e1 == std::errc{} && p1 == b + eq && e2 == std::errc{} && p2 == b + text.size() &&
         rate > 0 && rate <= 1e6;
  }
  if (!ok)
    throw CLI::ValidationError("--contract-rate",
                               "'" + text + "' is not CONID=RATE with 0 < RATE <= 1e6");
  return {con_id, rate};
}

void print_listening(const sim::Simulator& s, const sim::SimConfig& cfg) {
  std::string line =
      "{\"event\":\"listening\",\"port\":" + std::to_string(s.port()) +
      ",\"admin_port\":" + (s.admin_port() ? std::to_string(*s.admin_port()) : "null") +
      ",\"server_version\":" + std::to_string(cfg.server_version) +
      ",\"seed\":" + std::to_string(cfg.seed) + ",\"clock\":\"" +
      (cfg.clock == sim::ClockMode::wall ? "wall" : "subscription") + "\",\"hours\":\"" +
      (cfg.hours == sim::HoursMode::real ? "real" : "always") + "\"}\n";
  std::fputs(line.c_str(), stdout);
  std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv) {
  sim::SimConfig cfg;
  std::uint16_t admin_port = 0;
  std::int64_t start_time = 0;
  std::vector<std::string> contract_rates;
  std::string log_level = "info";
  int dump_con_id = 0;
  std::uint64_t dump_count = 100;
  std::int64_t dump_from = 0;
  std::int64_t dump_to = 0;
  std::string clock = "subscription";
  std::string hist_pacing = "ib";
  std::string hours = "always";

  CLI::App app{"ib-tws-sim: a TWS / IB Gateway simulator with a seeded synthetic market"};
  app.add_option("--port", cfg.port, "API port (0 = any free port)")->capture_default_str();
  app.add_option("--bind", cfg.bind_address, "address to listen on")->capture_default_str();
  auto* admin_opt = app.add_option("--admin-port", admin_port,
                                   "line-based control port on 127.0.0.1 (0 = any free port)");
  app.add_option("--seed", cfg.seed, "market seed")->capture_default_str();
  auto* start_opt = app.add_option("--start-time", start_time,
                                   "Unix time of each market's first event (default: wall clock "
                                   "when the market starts; with --clock wall, the simulator's "
                                   "start). With the subscription clock it also dates contract "
                                   "details (hours, listed futures months): start-time plus the "
                                   "time since the simulator started");
  app.add_option("--clock", clock,
                 "subscription: a market's event 0 is due at its first subscription; wall: "
                 "event i is due at start-time + i / rate, subscribed or not")
      ->capture_default_str()
      ->check(CLI::IsMember({"subscription", "wall"}));
  app.add_option("--hist-pacing", hist_pacing,
                 "reqHistoricalTicks pacing: ib (IB's rules, error 162 beyond) or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"ib", "off"}));
  app.add_option("--hours", hours,
                 "always: every market ticks around the clock; real: no ticks (live or "
                 "historical) while a contract's trading hours (its contract details, or the "
                 "admin command hours) are closed")
      ->capture_default_str()
      ->check(CLI::IsMember({"always", "real"}));
  app.add_option("--rate", cfg.default_rate, "market events per second per contract")
      ->capture_default_str()
      ->check(CLI::Range(1e-6, 1e6));
  app.add_option("--contract-rate", contract_rates, "per-contract rate, CONID=RATE (repeatable)");
  app.add_option("--server-version", cfg.server_version, "highest server version to answer")
      ->capture_default_str()
      ->check(CLI::Range(100, 187));
  app.add_option("--max-tick-by-tick", cfg.max_tick_by_tick,
                 "simultaneous tick-by-tick subscriptions (10190 beyond; -1 = no limit)")
      ->capture_default_str();
  app.add_option("--pacing-limit", cfg.pacing_limit,
                 "requests per second per client (error 100 beyond; 0 = no limit)")
      ->capture_default_str();
  app.add_option("--pacing-violations", cfg.pacing_violations_before_disconnect,
                 "violating seconds before a client over the limit is disconnected")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--client-id-hold", cfg.client_id_hold_seconds,
                 "seconds a client id stays in use after its connection closed")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--accounts", cfg.accounts, "managed accounts (comma-separated)")
      ->capture_default_str();
  app.add_option("--request-log", cfg.request_log_path,
                 "JSON lines of received requests (default: stdout)");
  app.add_option("--log-level", log_level, "stderr log level: debug, info, warn, error, off")
      ->capture_default_str();
  auto* dump_opt = app.add_option("--dump", dump_con_id,
                                  "print the first ticks of CONID's market as JSON lines and exit");
  app.add_option("--count", dump_count, "with --dump: ticks per tick type")->capture_default_str();
  auto* from_opt = app.add_option("--from", dump_from,
                                  "with --dump: every tick with time in [FROM, TO) instead");
  auto* to_opt = app.add_option("--to", dump_to, "with --dump: end of the time range (exclusive)");
  from_opt->needs(to_opt);
  to_opt->needs(from_opt);

  try {
    app.parse(argc, argv);
    for (const auto& text : contract_rates) {
      const auto [con_id, rate] = parse_contract_rate(text);
      cfg.rates[con_id] = rate;
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (*start_opt) cfg.start_time = start_time;
  cfg.clock = clock == "wall" ? sim::ClockMode::wall : sim::ClockMode::subscription;
  cfg.historical_pacing = hist_pacing == "ib";
  cfg.hours = hours == "real" ? sim::HoursMode::real : sim::HoursMode::always;
  if (*admin_opt) cfg.admin_port = admin_port;

  auto logger = spdlog::stderr_color_mt("ib-tws-sim");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(log_level));

  if (*dump_opt) {
    const sim::ContractCatalog catalog;
    sim::DumpOptions o;
    o.con_id = dump_con_id;
    o.count = dump_count;
    o.seed = cfg.seed;
    o.start_time = cfg.start_time.value_or(wall_clock_unix());
    const auto rate = cfg.rates.find(dump_con_id);
    o.rate = rate != cfg.rates.end() ? rate->second : cfg.default_rate;
    if (*from_opt) {
      o.from = dump_from;
      o.to = dump_to;
    }
    std::string error;
    if (!sim::MarketDump(catalog, o).write(stdout, error)) {
      std::cerr << "ib-tws-sim: " << error << "\n";
      return 2;
    }
    return 0;
  }

  try {
    boost::asio::io_context ioc(1);
    sim::Simulator simulator(ioc, cfg);
    simulator.start();
    print_listening(simulator, cfg);
    boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int sig) {
      if (ec) return;
      spdlog::info("signal {}: stopping", sig);
      // stop() is queued on the simulator's strand; stopping the loop after
      // it lets the sockets close in order, and pending timers cannot hold
      // the process.
      simulator.stop();
      boost::asio::post(ioc, [&ioc] { ioc.stop(); });
    });
    ioc.run();
  } catch (const std::exception& e) {
    spdlog::error("ib-tws-sim: {}", e.what());
    return 1;
  }
  return 0;
}

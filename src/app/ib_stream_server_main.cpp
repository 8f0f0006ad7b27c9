// ib-stream-server: tick-by-tick market data from TWS / IB Gateway over HTTP
// Server-Sent Events (shared/spec/api.md). With --simulate it runs the TWS
// simulator in-process and uses it as its only TWS; --sim-clock,
// --sim-start-time, --sim-hist-pacing and --sim-hours (handled here, before
// the server's own options) set its clock, historical-data pacing and market
// hours.
#include "http/server.hpp"
#include "http/server_config.hpp"
#include "http/server_log.hpp"
#include "sim/simulator.hpp"

#include <boost/asio/io_context.hpp>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

namespace {

std::string json_port(std::optional<std::uint16_t> port) {
  return port ? std::to_string(*port) : "null";
}

constexpr const char* kSimOptionsUsage =
    "\nSimulator options (with --simulate):\n"
    "  --sim-clock subscription|wall  subscription (default): a market starts at its first\n"
    "                                 subscription; wall: event i is due at start + i / rate\n"
    "  --sim-start-time UNIX          Unix time of each market's event 0\n"
    "  --sim-hist-pacing ib|off       reqHistoricalTicks pacing (default ib)\n"
    "  --sim-hours always|real        always (default): markets tick around the clock; real:\n"
    "                                 no ticks while a contract's trading hours are closed\n";

/// Takes the simulator's clock and pacing options out of `args` (as
/// "--name value" or "--name=value") into `sc`; "" or what is wrong.
std::string take_sim_options(std::vector<std::string>& args, sim::SimConfig& sc) {
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::string value;
    const auto eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (name != "--sim-clock" && name != "--sim-start-time" && name != "--sim-hist-pacing" &&
        name != "--sim-hours") {
      rest.push_back(args[i]);
      continue;
    }
    if (eq == std::string::npos) {
      if (i + 1 >= args.size()) return name + " needs a value";
      value = args[++i];
    }
    if (name == "--sim-clock") {
      if (value != "subscription" && value != "wall")
        return "--sim-clock must be subscription or wall, not '" + value + "'";
      sc.clock = value == "wall" ? sim::ClockMode::wall : sim::ClockMode::subscription;
    } else if (name == "--sim-hours") {
      if (value != "always" && value != "real")
        return "--sim-hours must be always or real, not '" + value + "'";
      sc.hours = value == "real" ? sim::HoursMode::real : sim::HoursMode::always;
    } else if (name == "--sim-hist-pacing") {
      if (value != "ib" && value != "off")
        return "--sim-hist-pacing must be ib or off, not '" + value + "'";
      sc.historical_pacing = value == "ib";
    } else {
      std::int64_t t = 0;
      const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), t);
      if (ec != std::errc{} || p != value.data() + value.size() || t < 0)
        return "--sim-start-time must be Unix seconds, not '" + value + "'";
      sc.start_time = t;
    }
  }
  args = std::move(rest);
  return "";
}

} // namespace

int main(int argc, char** argv) {
  // A file-size limit (ulimit -f) must fail a write, which the recorder
  // reports and retries, not kill the server.
  std::signal(SIGXFSZ, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  sim::SimConfig sim_options;
  if (const auto err = take_sim_options(args, sim_options); !err.empty()) {
    std::cerr << "ib-stream-server: " << err << "\n";
    return 2;
  }
  auto cl = http::parse_command_line(args);
  if (auto* err = std::get_if<std::string>(&cl)) {
    std::cerr << "ib-stream-server: " << *err << "\n";
    return 2;
  }
  if (std::get<http::CommandLine>(cl).help) {
    std::cout << http::server_usage() << kSimOptionsUsage;
    return 0;
  }
  auto loaded = http::load_server_config([](const char* name) { return std::getenv(name); },
                                         std::get<http::CommandLine>(cl).flags);
  if (auto* err = std::get_if<std::string>(&loaded)) {
    std::cerr << "ib-stream-server: " << *err << "\n";
    return 2;
  }
  auto config = std::get<http::ServerConfig>(std::move(loaded));
  http::setup_server_logging(config.log_level, config.log_format);

  // The simulator gets its own io_context and thread: it is a stand-in for
  // a separate TWS process and must not share the server's threads.
  boost::asio::io_context sim_ioc(1);
  std::unique_ptr<sim::Simulator> simulator;
  std::thread sim_thread;
  std::string sim_json = "null";
  if (config.simulate) {
    sim::SimConfig sc = sim_options;
    sc.port = 0;
    sc.seed = config.sim_seed;
    sc.default_rate = config.sim_rate;
    sc.admin_port = config.sim_admin_port;
    sc.request_log_path = "/dev/null";
    simulator = std::make_unique<sim::Simulator>(sim_ioc, sc);
    try {
      simulator->start();
    } catch (const std::exception& e) {
      std::cerr << "ib-stream-server: cannot start the simulator: " << e.what() << "\n";
      return 1;
    }
    config.tws_host = "127.0.0.1";
    config.tws_ports = {simulator->port()};
    sim_json = "{\"port\":" + std::to_string(simulator->port()) +
               ",\"admin_port\":" + json_port(simulator->admin_port()) + "}";
    sim_thread = std::thread([&] { sim_ioc.run(); });
  }

  http::Server server(config);
  const int code = server.run([&](std::uint16_t port) {
    // The one line on stdout: tests and scripts read the port from it.
    std::string host;
    for (char c : config.listen_host) {
      if (c == '"' || c == '\\') host += '\\';
      host += c;
    }
    std::printf("{\"event\":\"listening\",\"host\":\"%s\",\"port\":%u,\"simulator\":%s}\n",
                host.c_str(), static_cast<unsigned>(port), sim_json.c_str());
    std::fflush(stdout);
  });

  if (simulator) {
    simulator->stop();
    sim_ioc.stop();
    sim_thread.join();
  }
  return code;
}

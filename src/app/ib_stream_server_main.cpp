// ib-stream-server: tick-by-tick market data from TWS / IB Gateway over HTTP
// Server-Sent Events (shared/spec/api.md). With --simulate it runs the TWS
// simulator in-process and uses it as its only TWS.
#include "http/server.hpp"
#include "http/server_config.hpp"
#include "http/server_log.hpp"
#include "sim/simulator.hpp"

#include <boost/asio/io_context.hpp>

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

} // namespace

int main(int argc, char** argv) {
  auto cl = http::parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
  if (auto* err = std::get_if<std::string>(&cl)) {
    std::cerr << "ib-stream-server: " << *err << "\n";
    return 2;
  }
  if (std::get<http::CommandLine>(cl).help) {
    std::cout << http::server_usage();
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
    sim::SimConfig sc;
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

#include "cli/streamer.hpp"

#include "cli/format.hpp"
#include "sim/simulator.hpp"
#include "tws/client.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <climits>
#include <csignal>
#include <iostream>
#include <sstream>
#include <thread>

namespace cli {
namespace asio = boost::asio;

namespace {

std::vector<std::uint16_t> parse_port_list(const std::string& text) {
  std::vector<std::uint16_t> ports;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto v = tws::parse_int(item);
    if (item.empty() || !v || *v < 1 || *v > 65535)
      throw CLI::ValidationError("--ports", "'" + item + "' is not a TCP port (1..65535)");
    ports.push_back(static_cast<std::uint16_t>(*v));
  }
  if (ports.empty()) throw CLI::ValidationError("--ports", "needs at least one port");
  return ports;
}

void print_connect_help(const StreamerOptions& o, const std::string& detail) {
  std::cerr << "error: " << detail << "\n\n"
            << "Check that:\n"
            << "  - TWS or IB Gateway is running and logged in on " << o.host << "\n"
            << "  - Global Configuration > API > Settings: 'Enable ActiveX and Socket Clients' is "
               "checked\n"
            << "  - the API socket port is one of those tried: 7497 (TWS paper), 7496 (TWS live), "
               "4002 (Gateway paper), 4001 (Gateway live), or pass --port/--ports\n"
            << "  - this machine is allowed: 'Allow connections from localhost only' or "
               "'Trusted IPs'\n"
            << "  - no other API client uses client id " << o.client_id
            << " (choose another with --client-id)\n"
            << "No TWS at hand? Try the built-in simulator: ib-stream --simulate "
            << (o.spec ? o.spec->text()
                       : std::to_string(o.contract_id > 0 ? o.contract_id : 265598))
            << "\n";
}

/// Streams one contract; all of its state lives on the io_context's thread.
class Streamer {
public:
  Streamer(asio::io_context& ioc, const StreamerOptions& o, std::vector<std::uint16_t> ports)
      : o_(o), signals_(ioc, SIGINT, SIGTERM) {
    tws::ClientConfig cfg;
    cfg.host = o.host;
    cfg.ports = std::move(ports);
    cfg.client_id = o.client_id;
    cfg.connect_timeout = std::chrono::milliseconds(static_cast<long>(o.connect_timeout * 1000));
    tws::Client::Events ev;
    ev.disconnected = [this](std::error_code ec, const std::string& why) {
      if (stopping_) return;
      std::cerr << "error: connection to TWS lost: " << why << " (" << ec.message() << ")\n";
      finish(kExitStreamFailed);
    };
    ev.notice = [this](const tws::ErrorMessage& m, const tws::ErrorClass&) {
      // Connectivity restored with data lost: TWS forgot our subscription.
      if (m.code == 1101 && req_id_ != 0) resubscribe("connectivity restored, data lost");
    };
    client_ = tws::Client::create(ioc.get_executor(), cfg, std::move(ev));
  }

  void start() {
    signals_.async_wait([this](boost::system::error_code ec, int sig) {
      if (ec) return;
      std::cerr << "interrupted (signal " << sig << ") after " << count_
                << " ticks: cancelling the subscription\n";
      finish(kExitOk);
    });
    client_->connect([this](std::error_code ec, const std::string& detail) {
      if (ec) {
        if (ec == tws::ClientError::cancelled) return;
        if (ec == tws::ClientError::client_id_in_use) {
          std::cerr << "error: " << detail << "\n"
                    << "Another API client uses client id " << o_.client_id
                    << ", or TWS still holds it for a session that just ended: pass "
                       "--client-id with another id, or retry in a few seconds.\n";
        } else {
          print_connect_help(o_, detail);
        }
        finish(kExitCannotConnect);
        return;
      }
      request_details();
    });
  }

  int exit_code() const { return exit_code_; }

private:
  void request_details() {
    tws::Contract query;
    if (o_.spec) query = o_.spec->query();
    else query.con_id = o_.contract_id;
    const std::string what = o_.spec ? o_.spec->text() : std::to_string(o_.contract_id);
    client_->request_contract_details(query, [this, what](
                                                 std::error_code ec, const tws::ErrorMessage* err,
                                                 std::vector<tws::ContractDetails> details) {
      if (stopping_) return;
      if ((ec == tws::ClientError::request_failed && err && err->code == 200) ||
          (!ec && details.empty())) {
        std::cerr << "error: contract " << what << " not found"
                  << (err ? " (TWS error 200: " + err->text + ")" : std::string()) << "\n"
                  << (o_.spec ? "Check the spec: SYMBOL[:SEC_TYPE[:EXCHANGE[:CURRENCY[:EXPIRY]]]], "
                                "e.g. AAPL or ES:FUT:CME:USD:202703.\n"
                              : "Check the contract id (IB conId), e.g. 265598 for AAPL.\n");
        finish(kExitContractNotFound);
        return;
      }
      if (ec) {
        std::cerr << "error: contract details for " << what << " failed: "
                  << (err ? "TWS error " + std::to_string(err->code) + ": " + err->text
                          : ec.message())
                  << "\n";
        finish(kExitStreamFailed);
        return;
      }
      if (details.size() > 1) {
        std::cerr << "error: " << details.size() << " contracts match " << what
                  << "; name one (its id, or a longer spec with exchange, currency, expiry):\n";
        for (const auto& d : details) {
          const auto& c = d.contract;
          std::cerr << "  " << c.con_id << "  " << c.local_symbol << "  "
                    << (c.last_trade_date_or_contract_month.empty()
                            ? std::string("-")
                            : c.last_trade_date_or_contract_month)
                    << "  " << c.exchange << "  " << c.currency << "  " << d.long_name << "\n";
        }
        finish(kExitContractNotFound);
        return;
      }
      details_ = std::move(details.front());
      con_id_ = details_.contract.con_id;
      decimals_ = price_decimals(details_.min_tick);
      if (!o_.json) {
        std::cout << format_header(con_id_, o_.type, o_.number) << "\n"
                  << format_contract_line(details_) << "\n"
                  << std::flush;
      } else {
        spdlog::info("{}", format_contract_line(details_));
      }
      subscribe();
    });
  }

  void subscribe() {
    tws::Client::TickCallbacks cb;
    cb.on_tick = [this](const tws::Tick& t) { on_tick(t); };
    cb.on_error = [this](const tws::ErrorMessage& m, const tws::ErrorClass& cls) {
      if (cls.kind == tws::ErrorKind::request_failed) {
        std::cerr << "error: TWS refused the " << tws::to_string(o_.type)
                  << " subscription for contract " << con_id_ << ": TWS error " << m.code << ": "
                  << m.text << "\n";
        req_id_ = 0;
        finish(kExitStreamFailed);
      } else {
        std::cerr << "warning: TWS " << m.code << ": " << m.text << "\n";
      }
    };
    req_id_ = client_->subscribe_tick_by_tick(details_.contract, o_.type, std::move(cb));
  }

  void resubscribe(const char* why) {
    spdlog::warn("re-requesting the subscription: {}", why);
    client_->cancel_tick_by_tick(req_id_);
    subscribe();
  }

  void on_tick(const tws::Tick& t) {
    if (stopping_) return;
    ++count_;
    if (o_.json) line_ = format_tick_json(t);
    else line_ = format_tick_line(t, decimals_);
    line_ += '\n';
    std::fwrite(line_.data(), 1, line_.size(), stdout);
    std::fflush(stdout);
    if (o_.number > 0 && count_ >= o_.number) {
      if (o_.json) std::cerr << "Reached limit of " << o_.number << " ticks\n";
      else std::cout << "Reached limit of " << o_.number << " ticks\n" << std::flush;
      finish(kExitOk);
    }
  }

  void finish(int code) {
    if (stopping_) return;
    stopping_ = true;
    exit_code_ = code;
    signals_.cancel();
    // disconnect() cancels the subscription at TWS, then closes.
    client_->disconnect();
  }

  const StreamerOptions& o_;
  asio::signal_set signals_;
  std::shared_ptr<tws::Client> client_;
  tws::ContractDetails details_;
  int decimals_ = 4;
  int req_id_ = 0;
  int con_id_ = 0; // the contract streamed (resolved from a spec)
  int count_ = 0;
  bool stopping_ = false;
  int exit_code_ = kExitOk;
  std::string line_;
};

} // namespace

std::variant<StreamerOptions, int> parse_options(int argc, char** argv) {
  StreamerOptions o;
  CLI::App app{"ib-stream: stream tick-by-tick market data from TWS / IB Gateway"};
  app.set_version_flag("--version", "ib-stream 0.1.0");
  std::string type_text = "Last";
  std::string ports_text;
  int single_port = 0;
  std::string contract_text;
  app.add_option("CONTRACT", contract_text,
                 "IB contract id (conId), e.g. 265598 for AAPL, or a spec "
                 "SYMBOL[:SEC_TYPE[:EXCHANGE[:CURRENCY[:EXPIRY]]]], e.g. AAPL, "
                 "ES:FUT:CME:USD:202703, EUR:CASH:IDEALPRO:USD")
      ->required();
  app.add_option("-n,--number", o.number, "stop after N ticks (default: no limit)")
      ->check(CLI::Range(1, INT_MAX));
  app.add_option("-t,--type", type_text, "tick type: Last, AllLast, BidAsk, MidPoint")
      ->capture_default_str();
  app.add_flag("-j,--json", o.json, "one JSON object per tick on stdout, nothing else");
  app.add_flag("-v,--verbose", o.verbose, "debug logging on stderr");
  app.add_option("--client-id", o.client_id, "TWS API client id")->capture_default_str();
  app.add_option("--host", o.host, "TWS / IB Gateway host")->capture_default_str();
  auto* port_opt =
      app.add_option("--port", single_port, "TWS API port")->check(CLI::Range(1, 65535));
  auto* ports_opt =
      app.add_option("--ports", ports_text, "ports to try in order (default 7497,7496,4002,4001)");
  port_opt->excludes(ports_opt);
  app.add_option("--connect-timeout", o.connect_timeout, "seconds per port")
      ->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  app.add_flag("--simulate", o.simulate,
               "start the built-in TWS simulator in-process and stream from it");
  app.add_option("--sim-seed", o.sim_seed, "market seed of the simulator (with --simulate)")
      ->capture_default_str();
  app.add_option("--sim-rate", o.sim_rate, "market events per second (with --simulate)")
      ->check(CLI::Range(0.1, 1e6))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
    auto type = tws::parse_tick_type_nocase(type_text);
    if (!type)
      throw CLI::ValidationError("--type", "'" + type_text +
                                               "' is not a tick type: use Last, AllLast, "
                                               "BidAsk or MidPoint");
    o.type = *type;
    std::string contract_error;
    const auto ref = contracts::parse_contract_ref(contract_text, contract_error);
    if (!ref) throw CLI::ValidationError("CONTRACT", contract_error);
    o.contract_id = ref->con_id;
    o.spec = ref->spec;
    if (single_port != 0) o.ports = {static_cast<std::uint16_t>(single_port)};
    else if (!ports_text.empty()) o.ports = parse_port_list(ports_text);
    if ((single_port != 0 || !ports_text.empty()) && o.simulate)
      throw CLI::ValidationError("--simulate", "picks its own port; drop --port/--ports");
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(kExitUsage);
  }
  return o;
}

int run_streamer(const StreamerOptions& o) {
  std::unique_ptr<asio::io_context> sim_ioc;
  std::unique_ptr<sim::Simulator> simulator;
  std::thread sim_thread;
  std::vector<std::uint16_t> ports = o.ports;
  if (o.simulate) {
    sim_ioc = std::make_unique<asio::io_context>(1);
    sim::SimConfig sc;
    sc.port = 0;
    sc.seed = o.sim_seed;
    sc.default_rate = o.sim_rate;
    sc.request_log_path = "/dev/null";
    simulator = std::make_unique<sim::Simulator>(*sim_ioc, sc);
    try {
      simulator->start();
    } catch (const std::exception& e) {
      std::cerr << "error: cannot start the simulator: " << e.what() << "\n";
      return kExitCannotConnect;
    }
    ports = {simulator->port()};
    spdlog::info("simulator listening on 127.0.0.1:{}", simulator->port());
    sim_thread = std::thread([&] { sim_ioc->run(); });
  }

  int code = kExitOk;
  {
    asio::io_context ioc(1);
    Streamer streamer(ioc, o, ports);
    streamer.start();
    ioc.run();
    code = streamer.exit_code();
  }

  if (simulator) {
    simulator->stop();
    sim_ioc->stop();
    sim_thread.join();
  }
  return code;
}

int main(int argc, char** argv) {
  auto parsed = parse_options(argc, argv);
  if (auto* code = std::get_if<int>(&parsed)) return *code;
  const auto& o = std::get<StreamerOptions>(parsed);
  auto logger = spdlog::stderr_logger_mt("ib-stream");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(o.verbose ? spdlog::level::debug : spdlog::level::warn);
  return run_streamer(o);
}

} // namespace cli

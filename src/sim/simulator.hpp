// ib-tws-sim: a TWS / IB Gateway simulator that speaks the real TWS socket
// protocol (shared/spec/tws-protocol.md) over TCP, with a seeded synthetic
// market per contract and fault injection.
//
// Thread-safety: a Simulator lives on the io_context given to it. start()
// binds its ports on the calling thread (it throws std::system_error when it
// cannot); stop() and command() (the faults) may be called from any thread
// (they post to the simulator's strand). port()/admin_port() are safe after
// start() returned.
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace sim {

/// When a contract's market events happen (see src/sim/README.md).
enum class ClockMode {
  /// Event 0 is due when the contract's first subscription arrives and
  /// carries start_time (or the wall clock then).
  subscription,
  /// Event i carries floor(start_time + i / rate) and is due at that wall
  /// time: the market is a function of (seed, contract, rate, start_time,
  /// time), whether or not anybody subscribed.
  wall,
};

/// Whether markets keep hours (see src/sim/README.md).
enum class HoursMode {
  /// Every contract ticks around the clock.
  always,
  /// No ticks (tick-by-tick or historical) while the contract's trading
  /// hours, as its contract details report them, are closed.
  real,
};

struct SimConfig {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 7497;               // 0 = any free port
  std::optional<std::uint16_t> admin_port; // line-based control port; 0 = any free
  std::uint64_t seed = 1;
  /// Unix time of the first market event; unset = wall clock when the
  /// contract's market starts (its first subscription), or with the wall
  /// clock the simulator's start, rounded down to the second.
  std::optional<std::int64_t> start_time;
  ClockMode clock = ClockMode::subscription;
  HoursMode hours = HoursMode::always;
  /// reqHistoricalTicks pacing as IB states it (§10.7); false = no limits.
  bool historical_pacing = true;
  double default_rate = 4.0;   // market events per second per contract
  std::map<int, double> rates; // per conId overrides
  int server_version = 187;    // highest version we answer with
  int max_tick_by_tick = 5;    // simultaneous subscriptions -> 10190 beyond
  int pacing_limit = 50;       // requests/s per client -> error 100 beyond
  int pacing_violations_before_disconnect = 3;
  double client_id_hold_seconds = 3.0; // id stays "in use" after its connection closes
  std::string accounts = "DU1234567";
  std::string request_log_path; // JSON lines of requests; "" = stdout
};

class Simulator {
public:
  Simulator(boost::asio::io_context& ioc, SimConfig config);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  /// Binds the listener (and the admin port). Throws std::system_error when
  /// the port cannot be bound.
  void start();
  /// Closes the listener and every connection.
  void stop();

  std::uint16_t port() const;
  std::optional<std::uint16_t> admin_port() const;

  /// Runs one control command (the admin-port language, see README) and
  /// returns its one-line reply. Thread-safe.
  std::string command(const std::string& line);

private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

} // namespace sim

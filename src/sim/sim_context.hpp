// Everything the parts of one simulator share: configuration, catalog,
// market hours, faults, the request log, the live sessions, the market checkpoints, the
// historical-data pacing, the tick feed and the request handler, plus the strand every handler runs
// on.
//
// Ownership: held by shared_ptr; sessions, the listener and the admin server
// keep it alive while they have work pending, and timer handlers hold it
// weakly, so it lives exactly as long as something can still touch it.
//
// Thread-safety: none inside; every member is used on `strand` only.
#pragma once

#include "sim/contract_catalog.hpp"
#include "sim/fault_state.hpp"
#include "sim/historical_pacer.hpp"
#include "sim/market_archive.hpp"
#include "sim/market_hours.hpp"
#include "sim/request_handler.hpp"
#include "sim/request_log.hpp"
#include "sim/session_registry.hpp"
#include "sim/simulator.hpp"
#include "sim/tick_feed.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <memory>

namespace sim {

/// The configuration as the simulator runs it: the wall clock needs a start
/// time, the simulator's own start when none is given.
inline SimConfig effective_config(SimConfig cfg) {
  if (cfg.clock == ClockMode::wall && !cfg.start_time) {
    cfg.start_time = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  }
  return cfg;
}

struct SimContext : std::enable_shared_from_this<SimContext> {
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

  SimContext(boost::asio::io_context& ioc, SimConfig cfg)
      : strand(boost::asio::make_strand(ioc)), config(effective_config(std::move(cfg))),
        hours(catalog, config.hours), request_log(config.request_log_path),
        sessions(std::chrono::duration_cast<SessionRegistry::Clock::duration>(
            std::chrono::duration<double>(config.client_id_hold_seconds))),
        archive(config.seed), feed(*this), requests(*this) {}

  /// The simulator's clock (Unix seconds), which dates contract details
  /// and futures listings: with the subscription clock and a start time,
  /// that start time plus the time since the simulator was created (the
  /// date of the ticks it serves); otherwise the wall clock.
  std::int64_t clock_now() const {
    using namespace std::chrono;
    if (config.clock == ClockMode::subscription && config.start_time) {
      return *config.start_time + duration_cast<seconds>(steady_clock::now() - created).count();
    }
    return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
  }

  Strand strand;
  SimConfig config;
  std::chrono::steady_clock::time_point created = std::chrono::steady_clock::now();
  ContractCatalog catalog;
  MarketHours hours; // the hours strings of details, and --hours real
  FaultState faults;
  RequestLog request_log;
  SessionRegistry sessions;
  MarketArchive archive; // checkpoints of every market (history, wall-clock starts)
  HistoricalPacer historical_pacer;
  TickFeed feed;
  RequestHandler requests;
  std::uint64_t next_serial = 1; // connection numbers, for logs and status
};

} // namespace sim

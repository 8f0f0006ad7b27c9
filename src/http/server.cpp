#include "http/server.hpp"

#include "record/recorder.hpp"

#include "http/event_loops.hpp"
#include "http/listener.hpp"
#include "http/metrics_registry.hpp"
#include "http/scaleout.hpp"
#include "http/server_state.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <filesystem>

#include <algorithm>
#include <csignal>
#include <iostream>
#include <set>
#include <thread>

#include <signal.h>
#include <unistd.h>

namespace http {
namespace asio = boost::asio;
using namespace std::chrono_literals;

stream::HubConfig hub_config(const ServerConfig& c) {
  stream::HubConfig h;
  h.tws.host = c.tws_host;
  h.tws.ports = c.tws_ports;
  h.tws.client_id = c.client_id;
  h.tws.connect_timeout = std::chrono::seconds(c.connection_timeout);
  h.tws.message_counts = server_metrics().tws_messages; // GET /metrics
  h.connect_wait = std::chrono::seconds(c.connection_timeout);
  h.max_streams = static_cast<std::size_t>(c.max_streams);
  h.max_clients = static_cast<std::size_t>(c.max_clients);
  // The log holds at least a client's window, so a client that falls behind
  // it still finds where its window starts.
  h.log.max_entries = static_cast<std::size_t>(std::max(c.ring_size, c.buffer_size));
  h.log.max_bytes = static_cast<std::size_t>(c.ring_bytes);
  h.reconnect_attempts = c.reconnect_attempts;
  h.linger = std::chrono::milliseconds(c.linger_ms);
  h.watchdog_min_silence = std::chrono::milliseconds(c.watchdog_silence_ms);
  h.backoff_max = std::chrono::milliseconds(c.backoff_max_ms);
  h.backoff_initial = std::min(h.backoff_initial, h.backoff_max);
  return h;
}

namespace {

/// Tracks a --track entry named by spec once the spec resolves (TWS may
/// not be there yet: asked again every 5 s while TWS is unavailable or
/// busy); a spec that matches no contract, or several, is logged and left.
void track_spec(std::shared_ptr<ServerState> state, asio::io_context& ioc, std::string spec,
                std::set<tws::TickType> types) {
  std::string err;
  auto ref = contracts::parse_contract_ref(spec, err);
  if (!ref) return spdlog::error("--track {}: {}", spec, err);
  state->contracts->resolve(
      *ref, [state, &ioc, spec, types](contracts::ContractService::Error e, int con_id) {
        if (!e) {
          spdlog::info("--track {}: contract {}", spec, con_id);
          state->recorder->track(
              con_id, types,
              [spec](std::optional<stream::OpenError> e, std::vector<record::TrackedStatus>) {
                if (e) spdlog::error("--track {}: {}", spec, e->message);
              });
          return;
        }
        if (e->status == 503 || e->status == 429) {
          auto timer = std::make_shared<asio::steady_timer>(ioc, 5s);
          timer->async_wait([state, &ioc, spec, types, timer](boost::system::error_code ec) {
            if (!ec && !state->draining) track_spec(state, ioc, spec, types);
          });
          return;
        }
        spdlog::error("--track {}: {} {}", spec, e->message, e->details);
      });
}

/// Polls until the Hub has shut down and every SSE and WebSocket session has
/// flushed and closed, or the deadline passed. The deadline is for the
/// clients: the Hub's own shutdown (one hop on its strand, waiting for no
/// peer) is always waited for, so that its TWS client and subscriptions are
/// torn down before the io_context stops (else they outlive it, a leak).
void drain(std::shared_ptr<asio::steady_timer> timer, std::shared_ptr<ServerState> state,
           std::shared_ptr<std::atomic<bool>> hub_done,
           std::chrono::steady_clock::time_point deadline, std::function<void()> done) {
  const bool clients_gone =
      state->open_streams == 0 && state->open_ws_sessions == 0 && state->open_record_sessions == 0;
  if (*hub_done && (clients_gone || std::chrono::steady_clock::now() >= deadline)) {
    if (!clients_gone)
      spdlog::warn("drain time over ({} streams, {} websockets still open): closing",
                   state->open_streams.load(), state->open_ws_sessions.load());
    done();
    return;
  }
  timer->expires_after(20ms);
  timer->async_wait([timer, state, hub_done, deadline, done](boost::system::error_code) {
    drain(timer, state, hub_done, deadline, done);
  });
}

/// WsStats rates are averages over samples: one per second.
void sample_ws_stats(std::shared_ptr<asio::steady_timer> timer,
                     std::shared_ptr<ServerState> state) {
  state->ws_stats.sample();
  timer->expires_after(1s);
  timer->async_wait([timer, state](boost::system::error_code ec) {
    if (!ec) sample_ws_stats(timer, state);
  });
}

} // namespace

Server::Server(ServerConfig config) : config_(std::move(config)) {}

int Server::run(const std::function<void(std::uint16_t)>& listening) {
  // One event loop per core but the upstream thread's (below): a client
  // thread that shares a core with another one gains nothing and loses the
  // batching a busier loop gets (fewer, larger writes).
  const unsigned threads = config_.threads > 0
                               ? static_cast<unsigned>(config_.threads)
                               : std::max(1u, std::thread::hardware_concurrency() - 1);
  // The upstream side (the TWS connection and the Hub) has a thread of its
  // own: a tick read from TWS is appended to its log at once instead of
  // waiting in line behind the clients' writes (under load, thousands).
  // Declared first, so it outlives the clients' loops: a session that ends
  // during teardown still posts its goodbye to a live Hub strand.
  asio::io_context upstream_ioc(1);
  auto upstream_work = asio::make_work_guard(upstream_ioc);
  // The clients: one event loop per core.
  EventLoops loops(threads);
  asio::io_context& ioc = loops.at(0); // signals, timers, the acceptor
  // Before anything is announced: a signal right after the listening line
  // must already mean a graceful shutdown.
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> loop_work;
  for (std::size_t i = 0; i < loops.size(); ++i)
    loop_work.push_back(asio::make_work_guard(loops.at(i)));

  // The record: a data directory that cannot be used stops the server here.
  std::shared_ptr<store::Store> record;
  try {
    record = std::make_shared<store::Store>(
        store::StoreConfig{config_.data_dir, config_.retention_days});
  } catch (const std::exception& e) {
    std::cerr << "ib-stream-server: IB_STREAM_DATA_DIR='" << config_.data_dir
              << "' cannot be used: " << e.what() << "\n";
    return 2;
  }
  auto hub_cfg = hub_config(config_);
  // Sequence numbers go on from the record's, across restarts.
  hub_cfg.seq_base_hint = [record](int con_id, tws::TickType type) -> std::uint64_t {
    try {
      const auto last = record->last_recorded(con_id, type);
      return last ? last->seq : 0;
    } catch (const std::exception& e) {
      spdlog::error("cannot read the record's last sequence number of {}: {}", con_id, e.what());
      return 0;
    }
  };
  // Scale-out: a publisher numbers from JetStream, an edge reads from it.
  std::shared_ptr<ScaleOut> scaleout;
  try {
    scaleout = std::make_shared<ScaleOut>(config_, config_.listen_port, hub_cfg);
  } catch (const std::exception& e) {
    std::cerr << "ib-stream-server: IB_STREAM_NATS='" << config_.nats
              << "' cannot be used: " << e.what() << "\n";
    return 2;
  }
  auto hub = stream::Hub::create(upstream_ioc.get_executor(), std::move(hub_cfg));
  auto state = std::make_shared<ServerState>(config_, hub, record);
  state->scaleout = scaleout;
  state->recorder = record::Recorder::create(hub, record);
  contracts::ServiceConfig contracts_cfg;
  contracts_cfg.cache_file = std::filesystem::path(config_.data_dir) / "contracts.json";
  state->contracts =
      contracts::ContractService::create(upstream_ioc.get_executor(), hub, contracts_cfg);
  auto listener = std::make_shared<Listener>(loops, state);
  try {
    asio::ip::tcp::resolver resolver(ioc);
    const auto results = resolver.resolve(config_.listen_host, std::to_string(config_.listen_port),
                                          asio::ip::tcp::resolver::passive |
                                              asio::ip::tcp::resolver::numeric_service);
    listener->start(results.begin()->endpoint());
  } catch (const boost::system::system_error& e) {
    std::cerr << "ib-stream-server: cannot listen on " << config_.listen_host << ":"
              << config_.listen_port << ": " << e.code().message() << "\n";
    return 1;
  }
  scaleout->listening(config_.listen_host, listener->port(), config_.api_key);
  // A publisher that loses its lease stops (a supervisor restarts it as
  // the standby): exit code 3.
  std::atomic<bool> lost_lease{false};
  scaleout->start(hub, [&lost_lease] {
    lost_lease = true;
    ::kill(::getpid(), SIGTERM);
  });
  try {
    state->recorder->start(config_.track);
  } catch (const std::exception& e) {
    std::cerr << "ib-stream-server: " << e.what() << "\n";
    return 2;
  }
  for (const auto& [spec, types] : config_.track_specs) track_spec(state, ioc, spec, types);
  spdlog::info("listening on {}:{}; TWS {} ports {}; {} threads; data dir {}", config_.listen_host,
               listener->port(), config_.tws_host, fmt::join(config_.tws_ports, ","), threads,
               config_.data_dir);
  listening(listener->port());

  auto stats_timer = std::make_shared<asio::steady_timer>(ioc);
  sample_ws_stats(stats_timer, state);

  auto drain_timer = std::make_shared<asio::steady_timer>(ioc);
  std::function<void(boost::system::error_code, int)> on_signal;
  on_signal = [&](boost::system::error_code ec, int sig) {
    if (ec) return;
    if (state->draining.exchange(true)) {
      spdlog::warn("signal {} again: stopping now", sig);
      loops.stop();
      upstream_ioc.stop();
      return;
    }
    signals.async_wait(on_signal); // a second signal forces the exit
    spdlog::info("signal {}: shutting down (drain up to {} s)", sig, config_.drain_seconds);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(config_.drain_seconds);
    auto hub_done = std::make_shared<std::atomic<bool>>(false);
    // Every client is told `shutdown` by the Hub; the drain waits for them.
    hub->shutdown([hub_done] { *hub_done = true; });
    // WebSocket connections end too, with or without a subscription
    // (`complete` shutdown for each, then close 1001).
    state->ws_sessions.shutdown_all();
    drain(drain_timer, state, hub_done, deadline, [&] {
      listener->stop();
      stats_timer->cancel();
      spdlog::info("shutdown complete");
      loop_work.clear();
      loops.stop();
    });
  };
  signals.async_wait(on_signal);

  std::thread upstream_thread([&] { upstream_ioc.run(); });
  loops.run();
  // The recorder commits what it has read (the Hub has ended its streams).
  state->recorder->stop();
  // No worker reads the record any more (what is queued is dropped) before
  // the loops its tasks post to go away.
  state->history_workers.stop();
  upstream_work.reset();
  upstream_ioc.stop();
  upstream_thread.join();
  // What the Hub still had queued runs now (it has shut down: it only
  // answers), so no handler left upstream holds a client session, whose
  // socket belongs to `ioc`, destroyed first.
  upstream_ioc.restart();
  upstream_ioc.poll();
  scaleout->stop();
  return lost_lease ? 3 : 0;
}

} // namespace http

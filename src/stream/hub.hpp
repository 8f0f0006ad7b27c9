// stream::Hub: one upstream TWS tick-by-tick subscription per (contract,
// tick type), shared by every client stream of that pair whatever the
// transport (design.md, api.md §4). The Hub owns the TWS connection
// (tws::Client): it connects at start, reconnects with capped exponential
// backoff and jitter, resubscribes after a reconnect, after 1101/1102 and
// after a market-data farm flap, and runs a watchdog that re-requests a
// subscription gone silent - unless the contract's trading hours say the
// market is closed: then the subscription is `closed` and its clients get
// `info` market_closed, and market_open before the first tick after it.
//
// Each subscription has a stream::Log: every tick and every notice is
// appended once, encoded once per wire format, and published; client
// streams read it through their own cursors on their own event loops
// (client_stream.hpp). The Hub never touches a client's state per tick: it
// only wakes the log's reader groups (coalesced). It tells a client
// directly only that its stream ended (Subscriber::end).
//
// Thread-safety: every public member function may be called from any
// thread; it posts to the Hub's strand. Completion handlers and Subscriber
// callbacks run on the Hub's strand: they must not block and must post to
// their own event loop for any real work. The Hub never does socket I/O for
// clients.
#pragma once

#include "stream/log.hpp"
#include "stream/remote_upstream.hpp"
#include "stream/sse_events.hpp"
#include "tws/client.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stream {

/// A non-tick event for the clients of one subscription.
struct Notice {
  enum class Kind { info, error };
  Kind kind = Kind::info;
  /// info: "reconnected", "stale", "resumed", "ticks_lost", "market_closed",
  /// "market_open", ...;
  /// error: api.md code, e.g. TWS_DISCONNECTED, TWS_ERROR_10197.
  std::string code;
  std::string message; // human readable, names the contract
  std::string details;
};

/// Why the Hub ends a client stream.
enum class EndReason {
  stopped,  // DELETE /stream/{id} or /stream/all -> `complete` "stopped"
  shutdown, // server shutdown -> `complete` "shutdown"
  failed,   // the upstream subscription failed (TWS error): `error`, then end
};

/// Totals of one upstream subscription over all its client streams, those
/// that ended included (metrics: deliveries, drops, slow-consumer ends).
/// Written by the clients' sessions with relaxed atomics, read by snapshots.
struct StreamTotals {
  std::atomic<std::uint64_t> ticks_sent{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> slow_consumer_ends{0};
};

/// Counters of one client stream, written by its session, read by snapshots.
struct ClientCounters {
  std::atomic<std::uint64_t> ticks_sent{0};
  std::atomic<std::uint64_t> dropped{0};
  /// Its subscription's totals (not set for the recorder, an internal client).
  std::shared_ptr<StreamTotals> stream;

  void add_sent(std::uint64_t n) {
    ticks_sent.fetch_add(n, std::memory_order_relaxed);
    if (stream) stream->ticks_sent.fetch_add(n, std::memory_order_relaxed);
  }
  void add_dropped(std::uint64_t n) {
    dropped.fetch_add(n, std::memory_order_relaxed);
    if (stream) stream->dropped.fetch_add(n, std::memory_order_relaxed);
  }
  void slow_consumer_end() {
    if (stream) stream->slow_consumer_ends.fetch_add(1, std::memory_order_relaxed);
  }
};

/// A client stream as the Hub sees it (an SSE session, a WebSocket
/// subscription). Ticks and notices reach it through the stream's Log; the
/// Hub calls it only to end it, on the Hub's strand: it must only post to
/// the client's own event loop.
class Subscriber {
public:
  virtual ~Subscriber() = default;
  /// The Hub ends this stream; the Hub has already forgotten it (no
  /// close() needed, harmless if called). `why` is set for
  /// EndReason::failed. Entries the log got before this are still there to
  /// read.
  virtual void end(EndReason reason, const std::optional<Notice>& why) = 0;
};

/// An error answered before a stream starts (api.md §2 error table).
struct OpenError {
  int status = 500;      // 404, 429, 503, 500
  std::string code;      // CONTRACT_NOT_FOUND, RATE_LIMIT_EXCEEDED, ...
  std::string message;   // what happened, naming the contract
  std::string details;   // what to do
  int retry_after_s = 0; // for 429 / 503: the Retry-After header, 0 = none
};

struct OpenRequest {
  int con_id = 0;
  tws::TickType tick_type = tws::TickType::last;
  std::optional<std::uint64_t> last_event_id; // resume point (Last-Event-ID)
  std::string transport = "sse";              // for /stream/active
  std::string remote;                         // client address, for /stream/active
  std::optional<int> limit;
  int timeout_seconds = 300;
  /// The event loop the client reads on (its log reader group).
  boost::asio::io_context* loop = nullptr;
  /// The recorder of a tracked stream, not a client: not counted against
  /// max_clients, not listed in snapshots, not ended by stop(); while it is
  /// there the upstream stays open (and shows `tracked`).
  bool internal = false;
};

struct OpenResult {
  std::optional<OpenError> error; // set: nothing was opened
  std::uint64_t stream_id = 0;    // this client stream (for close())
  ContractInfo contract;
  std::string stream_key; // "265598:BidAsk", the `stream_id` of the info event
  /// The stream's log and the reader group of the client's loop.
  std::shared_ptr<Log> log;
  std::shared_ptr<ReaderGroup> readers;
  /// The client's first position in the log: the head, or for a resume
  /// the first tick after last_event_id still held...
  std::uint64_t start = 0;
  /// ...positions before this one are that replay (the head at the open)...
  std::uint64_t live_from = 0;
  /// ...the sequence number of the last tick before `start`...
  std::uint64_t seq_before_start = 0;
  /// ...how many ticks after last_event_id are no longer held (an `info`
  /// says so)...
  std::uint64_t lost = 0;
  /// ...or the id is not one this subscription numbered (e.g. the server
  /// restarted): live only.
  bool resume_unknown = false;
  std::shared_ptr<ClientCounters> counters;
};

/// What /health, /ready and /stream/active report.
struct HubSnapshot {
  struct Tws {
    bool connected = false;
    std::string host;
    std::uint16_t port = 0;
    int client_id = 0;
    int server_version = 0;
    std::string connected_since; // ISO-8601, empty when not connected
    std::uint64_t reconnects = 0;
    std::string last_error; // why the last connect attempt / session failed
  } tws;
  struct Upstream {
    int con_id = 0;
    std::string tick_type; // tws::to_string: "Last", "AllLast", "BidAsk", "MidPoint"
    std::string started;   // ISO-8601
    std::uint64_t ticks = 0;
    double rate = 0.0; // ticks/s over the last minute (or since start)
    std::size_t clients = 0;
    int req_id = 0; // current TWS request id (0 while disconnected)
    /// "starting", "live", "stale", "disconnected", "lingering", "closed"
    /// (the contract's trading hours say the market is closed).
    std::string state;
    bool tracked = false; // kept open by the recorder
    // Over every client stream it had (StreamTotals).
    std::uint64_t ticks_sent = 0;
    std::uint64_t dropped = 0;
    std::uint64_t slow_consumer_ends = 0;
  };
  struct ClientInfo {
    std::uint64_t id = 0;
    std::string transport;
    std::string remote;
    int con_id = 0;
    std::string tick_type;
    std::optional<int> limit;
    int timeout_seconds = 0;
    std::uint64_t ticks_sent = 0;
    std::uint64_t dropped = 0;
    std::string started;
  };
  std::vector<Upstream> upstreams;
  std::vector<ClientInfo> clients;
  std::size_t max_streams = 0;
  std::size_t max_clients = 0;
  std::uint64_t total_ticks = 0; // received from TWS since start
  bool shutting_down = false;
  /// An edge (HubConfig::remote): its link to the publisher. `tws` is then
  /// the publisher's TWS connection as it last said.
  std::optional<RemoteStatus> remote;
};

/// What DELETE /stream/... stopped.
struct StoppedStream {
  int con_id = 0;
  std::string tick_type;
  std::size_t clients = 0;
};

struct HubConfig {
  tws::ClientConfig tws;
  std::size_t max_streams = 50;
  std::size_t max_clients = 10000;
  LogLimits log; // events kept per subscription (resume window)
  /// ... and at least this much for a tracked stream: the recorder's
  /// margin when its thread is late (at 10,000 ticks/s, more than a second).
  LogLimits tracked_log{16384, 8u << 20};
  int reconnect_attempts = 3; // quick attempts, then capped backoff
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30000};
  /// A request that finds TWS down waits this long for it (then 503).
  std::chrono::milliseconds connect_wait{5000};
  /// Upstream kept this long after its last client leaves.
  std::chrono::milliseconds linger{5000};
  /// Watchdog: a subscription is stale after max(min_silence, factor x its
  /// mean tick interval) without a tick.
  std::chrono::milliseconds watchdog_min_silence{30000};
  double watchdog_factor = 20.0;
  /// Trading hours: a contract's details (its hours) are re-requested when
  /// the span they cover ends within hours_refresh_margin or when they are
  /// older than hours_refresh_age; a failed attempt is retried after
  /// hours_refresh_retry.
  std::chrono::milliseconds hours_refresh_margin{24 * 3600 * 1000};
  std::chrono::milliseconds hours_refresh_age{24 * 3600 * 1000};
  std::chrono::milliseconds hours_refresh_retry{10 * 60 * 1000};
  /// The wall clock the trading hours are read against (tests shift it).
  /// Unset: std::chrono::system_clock::now. Called on the Hub's strand.
  std::function<std::chrono::system_clock::time_point()> wall_clock;
  /// IB: no more than one identical request per instrument per 15 s.
  std::chrono::milliseconds same_request_spacing{15000};
  /// TWS refused the subscription (10190): Retry-After for the 429.
  int retry_after_s = 5;
  /// The sequence number a stream that this process has not numbered yet
  /// continues from (the record's last one), so that ids stay unique across
  /// restarts. Called on the Hub's strand; must be quick. Unset: 0.
  std::function<std::uint64_t(int con_id, tws::TickType type)> seq_base_hint;
  /// Set: an edge. Streams come from a publisher through `remote` (no TWS
  /// connection; the watchdog, hours and re-requests are the publisher's).
  std::shared_ptr<RemoteUpstream> remote;
  /// An edge: how long an open waits for the stream to catch up with the
  /// publisher (its recent window, a resume point ahead of it).
  std::chrono::milliseconds remote_catch_up{3000};
};

class Hub : public std::enable_shared_from_this<Hub> {
public:
  using Executor = boost::asio::any_io_executor;

  /// `ex` should be an io_context executor; the Hub makes its own strand.
  static std::shared_ptr<Hub> create(Executor ex, HubConfig config);
  ~Hub();

  /// Connects to TWS (and keeps reconnecting); starts the watchdog.
  void start();

  /// Opens a client stream: waits for TWS (up to connect_wait), resolves
  /// the contract (cached), joins or creates the upstream subscription,
  /// checks limits. `done` runs on the Hub's strand exactly once; on
  /// success `sub` receives ticks from then on (after `replay`).
  void open(OpenRequest request, std::shared_ptr<Subscriber> sub,
            std::function<void(OpenResult)> done);

  /// The client stream is over (limit, timeout, client gone, slow). Its
  /// subscription lingers, then is cancelled, when it was the last client.
  void close(std::uint64_t stream_id);

  /// Ends every client stream of `con_id` (all when nullopt) with
  /// EndReason::stopped and cancels their upstream subscriptions.
  void stop(std::optional<int> con_id, std::function<void(std::vector<StoppedStream>)> done);

  void snapshot(std::function<void(HubSnapshot)> done);

  /// reqHistoricalTicks for `con_id` (request.contract is filled in from
  /// the contract's details, looked up when not cached). `done` runs once,
  /// on the Hub's strand (post to your own loop for real work); without a
  /// TWS connection it gets ClientError::not_connected.
  void historical_ticks(int con_id, tws::HistoricalTicksRequest request,
                        tws::Client::HistoricalTicksHandler done);

  /// reqContractDetails by description or conId, through the Hub's TWS
  /// connection (src/contracts caches and paces these). `done` runs once
  /// on the Hub's strand; without a connection: ClientError::not_connected.
  void contract_details(tws::Contract query, tws::Client::DetailsHandler done);
  /// Contract details TWS has just given (a lookup by description): the
  /// Hub keeps them, so that a stream of one of them does not ask TWS for
  /// its details again.
  void remember_contracts(std::vector<tws::ContractDetails> details);
  /// reqMatchingSymbols (IB's fuzzy symbol search), likewise.
  void matching_symbols(std::string pattern, tws::Client::SymbolSamplesHandler done);
  /// Ends every client with EndReason::shutdown, refuses new streams,
  /// cancels upstream, disconnects from TWS; then `done`.
  void shutdown(std::function<void()> done);

private:
  struct Impl;
  explicit Hub(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

} // namespace stream

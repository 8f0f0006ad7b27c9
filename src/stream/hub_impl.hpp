// Internals of stream::Hub, shared by hub.cpp (client side: open, close,
// stop, snapshot) and hub_upstream.cpp (TWS side: connection lifecycle,
// subscriptions, watchdog). Everything here lives on the Hub's strand.
#pragma once

#include "hours/trading_hours.hpp"
#include "stream/hub.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <utility>

namespace stream {

using Clock = std::chrono::steady_clock;
using StreamKeyPair = std::pair<int, tws::TickType>;

/// An open() waiting for something (TWS to connect, contract details, the
/// upstream subscription to be confirmed).
struct PendingOpen {
  OpenRequest request;
  std::shared_ptr<Subscriber> sub;
  std::function<void(OpenResult)> done;
};

/// Ticks per second over the last minute, in one-second buckets.
class RateMeter {
public:
  void add(std::int64_t second) {
    auto& b = buckets_[static_cast<std::size_t>(second % 60)];
    if (b.first != second) b = {second, 0};
    ++b.second;
  }
  double per_second(std::int64_t now_second, std::int64_t started_second) const {
    std::uint64_t n = 0;
    for (const auto& [s, c] : buckets_)
      if (s > now_second - 60 && s <= now_second) n += c;
    const auto span = std::clamp<std::int64_t>(now_second - started_second, 1, 60);
    return static_cast<double>(n) / static_cast<double>(span);
  }

private:
  std::array<std::pair<std::int64_t, std::uint64_t>, 60> buckets_{};
};

/// One upstream tick-by-tick subscription and its clients.
struct Subscription {
  enum class State { pending, live, stale, disconnected, lingering, closed };

  Subscription(StreamKeyPair k, tws::ContractDetails d, LogLimits limits, std::uint64_t seq_base)
      : key(k), details(std::move(d)), contract(ContractInfo::from(details)),
        stream_key(std::to_string(k.first) + ":" + std::string(tws::to_string(k.second))),
        log(std::make_shared<Log>(seq_base, limits)), seq_base(seq_base) {}

  StreamKeyPair key;
  tws::ContractDetails details;
  ContractInfo contract;
  std::string stream_key; // "265598:BidAsk"
  /// Every tick and notice, encoded once per wire format; the clients'
  /// cursors read it. Clients that waited for the subscription's
  /// confirmation start at its position 0 (ticks that raced ahead of the
  /// confirmation included).
  std::shared_ptr<Log> log;
  std::uint64_t seq_base = 0;
  State state = State::pending;
  int req_id = 0;          // current TWS request (0: none)
  std::uint64_t epoch = 0; // bumped per request: stale callbacks are ignored
  std::vector<std::pair<std::uint64_t, std::shared_ptr<Subscriber>>> clients;
  std::vector<PendingOpen> waiting; // opens answered once the request is confirmed
  std::string started_iso;
  std::int64_t started_unix = 0;
  std::uint64_t ticks = 0;
  /// What its client streams were sent, dropped, ended slow (metrics).
  std::shared_ptr<StreamTotals> totals = std::make_shared<StreamTotals>();
  RateMeter rate;
  Clock::time_point last_activity{}; // last tick, or the last (re)request
  Clock::time_point last_request{};  // for IB's one identical request per 15 s
  double mean_interval_s = 0.0;      // EWMA of the time between ticks
  Clock::time_point last_tick{};
  bool watchdog_requested = false; // a stale re-request is already scheduled
  std::shared_ptr<boost::asio::steady_timer> linger_timer;
  std::shared_ptr<boost::asio::steady_timer> rerequest_timer;

  std::string name() const;         // "AAPL (265598) BidAsk"
  std::size_t internal_clients = 0; // recorders among `clients` (tracked when > 0)
  /// A recorder asked for it (set at its open, before it is attached, so
  /// that the ticks it reads from the start carry their fields): the log's
  /// entries carry the packed tick (LogEntry::record).
  bool recorded = false;

  // ---- trading hours (hub_hours.cpp)
  /// The contract's trading hours in UTC; nullopt: unknown (an unknown zone,
  /// hours that do not parse, none given): the watchdog works as without.
  std::optional<hours::Schedule> schedule;
  Clock::time_point details_at{}; // when `details` (and the schedule) arrived
  /// The closed period this subscription last entered (its start, Unix s):
  /// market_closed is said once per period.
  std::optional<std::int64_t> closed_from;
  bool closed_announced = false; // market_closed said for closed_from
  /// The log position of that market_closed notice: a client that joins
  /// while closed starts there (it learns the market is closed).
  std::optional<std::uint64_t> closed_notice_at;
  bool hours_warned = false; // the unusable hours were logged
  /// Ticks came in that closed period: the schedule is doubted there and
  /// the watchdog works as without it.
  bool ticks_while_closed = false;
  bool announce_open = false; // market_open before the next tick

  // ---- an edge's stream (hub_remote.cpp)
  std::unique_ptr<RemoteFeed> feed; // the publisher's ticks and notices
  /// Confirmed once the feed delivered this sequence (the publisher's last
  /// at its answer): clients then start at the head, as on a single node.
  std::uint64_t catch_up_to = 0;
  Clock::time_point catch_up_deadline{};
  /// Notices that came before the tick they follow (RemoteEvent::seq).
  std::deque<RemoteEvent> held_notices;
  Clock::time_point held_since{};
  /// Opens resuming after a tick this edge has not received yet.
  std::vector<std::pair<PendingOpen, Clock::time_point>> resume_waiting;
};

struct ClientEntry {
  bool internal = false; // OpenRequest::internal (the recorder)
  std::shared_ptr<Subscriber> sub;
  StreamKeyPair key;
  HubSnapshot::ClientInfo info;
  std::shared_ptr<ClientCounters> counters;
};

struct Hub::Impl : std::enable_shared_from_this<Hub::Impl> {
  Impl(Executor ex, HubConfig c);

  /// The Hub's strand, on the concrete io_context executor: handlers that
  /// complete through it (every TWS read) need no type-erased wrapper, which
  /// would cost an allocation per read.
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  HubConfig cfg_;

  // ---- TWS connection (hub_upstream.cpp)
  enum class Link { idle, connecting, connected };
  Link link_ = Link::idle;
  std::shared_ptr<tws::Client> client_;
  std::uint64_t client_generation_ = 0;
  /// Connect attempts that failed, and connections that ended before they
  /// proved stable, since the last stable connection: the backoff's exponent.
  int failed_attempts_ = 0;
  Clock::time_point connected_at_;
  bool ever_connected_ = false;
  std::uint64_t reconnects_ = 0;
  std::string connected_since_;
  std::string last_error_;
  tws::SessionInfo session_;
  boost::asio::steady_timer reconnect_timer_;
  boost::asio::steady_timer watchdog_timer_;
  std::set<std::string> farms_down_;
  bool connectivity_lost_ = false;
  std::mt19937 jitter_rng_{std::random_device{}()};

  void connect();
  void on_connected(std::uint64_t generation);
  void on_connect_failed(std::uint64_t generation, std::error_code ec, const std::string& detail);
  void on_disconnected(std::uint64_t generation, std::error_code ec, const std::string& detail);
  void on_notice(const tws::ErrorMessage& m, const tws::ErrorClass& cls);
  void schedule_reconnect(std::chrono::milliseconds delay);
  std::chrono::milliseconds next_backoff(bool id_in_use);
  bool connected() const {
    if (remote()) return remote_up_;
    return link_ == Link::connected && client_ && client_->is_connected();
  }

  // ---- upstream subscriptions (hub_upstream.cpp)
  std::map<StreamKeyPair, std::shared_ptr<Subscription>> subs_;
  std::map<StreamKeyPair, std::uint64_t> last_seq_; // survives re-created subscriptions
  std::uint64_t total_ticks_ = 0;
  // Scratch buffers of on_tick / notify: a tick's encodings are built here
  // and copied into the log (no allocation per tick once warm).
  std::string data_scratch_, sse_scratch_, ws_scratch_, record_scratch_;

  void request_upstream(const std::shared_ptr<Subscription>& s);
  void cancel_upstream(Subscription& s);
  void confirm(const std::shared_ptr<Subscription>& s, std::uint64_t epoch);
  void on_tick(const std::shared_ptr<Subscription>& s, std::uint64_t epoch, const tws::Tick& t);
  void on_sub_error(const std::shared_ptr<Subscription>& s, std::uint64_t epoch,
                    const tws::ErrorMessage& m, const tws::ErrorClass& cls);
  void resubscribe_all(const std::string& why);
  void notify_all(const Notice& n);
  /// Appends a notice to the log of `s`. market_closed: `next_open` (ISO,
  /// an extra member of the info) and `period` ("<from> <to>", the closed
  /// period in Unix seconds, to = 0 when unknown: the entry's `record`,
  /// which the recorder reads).
  std::uint64_t notify(Subscription& s, const Notice& n, std::string_view next_open = {},
                       std::string_view period = {});
  void arm_watchdog();
  void watchdog_tick();
  void watchdog_rerequest(const std::shared_ptr<Subscription>& s);

  // ---- trading hours (hub_hours.cpp)
  /// Contract details re-requested for their hours: conId -> the TWS
  /// connection (client_generation_) it was asked on, and the last attempt.
  std::map<int, std::uint64_t> hours_refreshing_;
  std::map<int, Clock::time_point> hours_requested_;
  /// The schedule of `s` from its details (a warning, once, when unusable).
  void load_schedule(Subscription& s);
  /// Applies the hours at `now`: enters or leaves `closed` (with its
  /// notices). Returns true when silence is expected (no stale check).
  /// `silent_s` is lowered to the time since the current session opened.
  bool apply_hours(Subscription& s, double& silent_s);
  /// The first tick after a closed period (or a doubted one): market_open.
  void market_opened(Subscription& s);
  /// The details of a contract whose schedule runs out (or is a day old)
  /// are re-requested.
  void refresh_hours();
  std::chrono::system_clock::time_point wall_now() const {
    return cfg_.wall_clock ? cfg_.wall_clock() : std::chrono::system_clock::now();
  }
  void drop_subscription(const StreamKeyPair& key);
  void fail_subscription(const std::shared_ptr<Subscription>& s, const Notice& why,
                         std::optional<OpenError> open_error);

  // ---- clients (hub.cpp)
  std::map<std::uint64_t, ClientEntry> clients_;
  std::uint64_t next_stream_id_ = 1;
  std::size_t pending_opens_ = 0; // opens not answered yet (count against max_clients)
  std::vector<std::pair<PendingOpen, std::shared_ptr<boost::asio::steady_timer>>> waiting_tws_;
  std::map<int, tws::ContractDetails> contract_cache_;
  std::map<int, std::vector<PendingOpen>> details_waiting_;
  bool shutting_down_ = false;

  void open(PendingOpen p);
  void after_connected(PendingOpen p);
  void resolve_contract(PendingOpen p);
  void join(PendingOpen p, const tws::ContractDetails& d);
  /// `from_start`: the client waited for the subscription's confirmation
  /// and reads from the log's first entry.
  void attach(const std::shared_ptr<Subscription>& s, PendingOpen p, bool from_start = false);
  void answer_error(PendingOpen& p, OpenError e);
  void flush_waiting_tws();
  void close(std::uint64_t stream_id);
  void maybe_linger(const std::shared_ptr<Subscription>& s);
  std::vector<StoppedStream> stop(std::optional<int> con_id, EndReason reason);
  HubSnapshot snapshot() const;

  // ---- an edge: streams from a publisher (hub_remote.cpp)
  bool remote() const { return cfg_.remote != nullptr; }
  bool remote_up_ = false;
  /// The publisher's heartbeat was heard (at the last watchdog tick).
  bool remote_publisher_seen_ = false;
  /// Opens waiting for the publisher's answer, per stream.
  std::map<StreamKeyPair, std::vector<PendingOpen>> remote_opening_;
  /// The publisher's last sequence at its answer, for the stream join() creates.
  std::map<StreamKeyPair, std::uint64_t> remote_catch_up_;
  Clock::time_point last_keep_{};
  void remote_start();
  void remote_link(bool up);
  void remote_open(PendingOpen p);
  void remote_request(const std::shared_ptr<Subscription>& s);
  void remote_cancel(Subscription& s);
  void on_remote_event(const std::shared_ptr<Subscription>& s, std::uint64_t epoch, RemoteEvent ev);
  void remote_tick(Subscription& s, const RemoteEvent& ev);
  void remote_notice(const std::shared_ptr<Subscription>& s, const RemoteEvent& ev);
  /// Attaches `p` now, or parks it until the log reaches its resume point.
  void remote_attach(const std::shared_ptr<Subscription>& s, PendingOpen p);
  void remote_confirm(const std::shared_ptr<Subscription>& s);
  void remote_watchdog();
  void remote_shutdown();

  // ---- historical ticks (hub_history.cpp)
  void historical_ticks(int con_id, tws::HistoricalTicksRequest request,
                        tws::Client::HistoricalTicksHandler done);
};

OpenError rate_limited(std::string message, std::string details, int retry_after_s);
OpenError tws_unavailable(std::string message, std::string details, int retry_after_s);

} // namespace stream

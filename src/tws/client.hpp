// tws::Client: one API connection to TWS / IB Gateway over the TWS socket
// protocol (tws-protocol.md), on Boost.Asio.
//
// Thread-safety: a Client is NOT internally synchronized. Create it on an
// executor that serializes its handlers (an io_context run by one thread, or
// a strand) and call every member function from that executor. All callbacks
// are invoked on that executor. The Client never blocks and never waits for
// its callers: callbacks must not block either.
//
// Lifetime: owned by shared_ptr. Pending operations hold its implementation
// (Client::Impl), not the Client: destroying the Client closes the
// implementation, and the handlers that still run then do nothing.
// disconnect() ends everything.
#pragma once

#include "tws/error_codes.hpp"
#include "tws/messages.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

namespace tws {

/// Messages received from TWS after the handshake, by message id (ids of
/// 256 and above count in the last slot). The client adds with relaxed
/// atomics on its executor; anyone may read them (a metrics scrape). One
/// object may outlive and be shared by successive clients.
struct MessageCounts {
  static constexpr std::size_t kSlots = 256;
  std::array<std::atomic<std::uint64_t>, kSlots> by_id{};
  void add(int msg_id) {
    const auto slot = msg_id < 0 || static_cast<std::size_t>(msg_id) >= kSlots
                          ? kSlots - 1
                          : static_cast<std::size_t>(msg_id);
    by_id[slot].fetch_add(1, std::memory_order_relaxed);
  }
};

struct ClientConfig {
  std::string host = "127.0.0.1";
  /// Tried in order; the first that completes the handshake wins.
  std::vector<std::uint16_t> ports = {7497, 7496, 4002, 4001};
  int client_id = 2;
  /// Per port: TCP connect + API handshake + nextValidId/managedAccounts.
  std::chrono::milliseconds connect_timeout{5000};
  /// Appended to the version range in the handshake (e.g. "+PACEAPI").
  std::string connect_options;
  /// After this much silence from TWS, send reqCurrentTime...
  std::chrono::milliseconds keepalive_interval{20000};
  /// ...and declare the socket dead if nothing arrives within this.
  std::chrono::milliseconds keepalive_timeout{10000};
  /// Outgoing messages per second (IB's limit is 50 for all messages).
  int max_messages_per_second = 45;
  /// Contract details requests fail with ClientError::timeout after this.
  std::chrono::milliseconds request_timeout{10000};
  /// When set, every message received is counted here (metrics).
  std::shared_ptr<MessageCounts> message_counts;
};

/// What the connected session looks like.
struct SessionInfo {
  std::string host;
  std::uint16_t port = 0;
  int server_version = 0;
  std::string connection_time;
  std::string accounts;
  int next_valid_id = 0;
};

using Tick = std::variant<TickByTickLast, TickByTickBidAsk, TickByTickMidPoint>;

/// What reqHistoricalTicks asks for (tws-protocol.md §10.2).
struct HistoricalTicksRequest {
  Contract contract;        // con_id set; exchange/symbol etc. may be empty or filled from details
  std::string start;        // "yyyymmdd-hh:mm:ss" (UTC) or empty
  std::string end;          // the same, or empty; exactly one of start / end is set
  int count = 1000;         // IB: at most 1000
  std::string what_to_show; // "TRADES", "BID_ASK" or "MIDPOINT"
  bool use_rth = false;
  bool ignore_size = false;
};

/// ok + the ticks (oldest first; TRADES -> TickByTickLast with type all_last, BID_ASK ->
/// TickByTickBidAsk, MIDPOINT -> TickByTickMidPoint), collected until a reply with done = 1;
/// or ClientError::request_failed + the ERR_MSG (162 no data / pacing violation, 200, 321...);
/// or ClientError::timeout (after ClientConfig::request_timeout), not_connected, connection_lost.
using HistoricalTicksHandler =
    std::function<void(std::error_code, const ErrorMessage* tws_error, std::vector<Tick> ticks)>;

/// ok + the descriptions of one SYMBOL_SAMPLES (IB: at most 16, may be none); or
/// ClientError::request_failed + the ERR_MSG for the reqId (or a local 503 below server
/// version 108); or ClientError::timeout, not_connected, connection_lost / cancelled.
using SymbolSamplesHandler = std::function<void(std::error_code, const ErrorMessage* tws_error,
                                                std::vector<ContractDescription> samples)>;

class Client : public std::enable_shared_from_this<Client> {
public:
  using Executor = boost::asio::any_io_executor;

  struct Events {
    /// A connected session was lost (socket closed, reset, dead, framing
    /// lost) or ended by disconnect() (ClientError::cancelled). Every
    /// subscription and pending request is gone when this runs.
    std::function<void(std::error_code, const std::string& detail)> disconnected;
    /// A TWS error/notice not routed to one of our requests: connection
    /// level (id -1) notices, farm status, connectivity 1100/1101/1102.
    std::function<void(const ErrorMessage&, const ErrorClass&)> notice;
  };

  struct TickCallbacks {
    std::function<void(const Tick&)> on_tick;
    /// TWS error for this subscription. When kind is request_failed the
    /// subscription is over and will get nothing more.
    std::function<void(const ErrorMessage&, const ErrorClass&)> on_error;
  };

  using ConnectHandler = std::function<void(std::error_code, const std::string& detail)>;
  using DetailsHandler = std::function<void(std::error_code, const ErrorMessage* tws_error,
                                            std::vector<ContractDetails> details)>;
  using TimeHandler = std::function<void(std::error_code, std::int64_t unix_time)>;
  using HistoricalTicksHandler = tws::HistoricalTicksHandler;
  using SymbolSamplesHandler = tws::SymbolSamplesHandler;

  static std::shared_ptr<Client> create(Executor ex, ClientConfig config, Events events = {});
  ~Client();

  /// Tries config.ports in order. `done` runs once: ok when the session is
  /// ready (nextValidId and managedAccounts arrived), else the last error
  /// with a human-readable detail (which ports were tried and why).
  void connect(ConnectHandler done);

  /// Cancels every subscription at TWS, flushes, closes the socket.
  void disconnect();

  bool is_connected() const;
  const SessionInfo& session() const;

  /// reqContractDetails by conId, or by description (symbol, secType,
  /// exchange, currency, expiry, localSymbol...). Every CONTRACT_DATA for the
  /// reqId is collected until CONTRACT_DATA_END (several matches: several
  /// details, in TWS's order); no match is TWS error 200 without an end
  /// marker: the handler gets ClientError::request_failed and the ERR_MSG.
  void request_contract_details(int con_id, DetailsHandler done);
  void request_contract_details(const Contract& contract, DetailsHandler done);

  /// reqMatchingSymbols (§10.8): the start of a ticker or a word of a
  /// company name. `done` runs exactly once, on the client's executor, with
  /// the one SYMBOL_SAMPLES reply or an error (see SymbolSamplesHandler).
  /// IB asks for at least 1 s between calls; the client does not enforce it.
  void request_matching_symbols(const std::string& pattern, SymbolSamplesHandler done);

  /// reqTickByTickData. Returns the request id (0 when not connected; the
  /// error callback then runs with code 504 "Not connected").
  int subscribe_tick_by_tick(const Contract& contract, TickType type, TickCallbacks callbacks);
  /// cancelTickByTickData; no callback runs for `req_id` afterwards.
  void cancel_tick_by_tick(int req_id);

  /// reqHistoricalTicks. `done` runs exactly once, on the client's
  /// executor (see HistoricalTicksHandler). Below server version 130 nothing
  /// is sent and `done` gets request_failed with a local 503 ERR_MSG. The
  /// ticks' req_id is the request's id.
  void request_historical_ticks(const HistoricalTicksRequest& request, HistoricalTicksHandler done);

  /// reqCurrentTime (also the keepalive).
  void request_current_time(TimeHandler done);

  /// Number of live tick-by-tick subscriptions.
  std::size_t subscription_count() const;

private:
  struct Impl;
  Client(Executor ex, ClientConfig config, Events events);
  std::shared_ptr<Impl> impl_;
};

} // namespace tws

// Private to src/tws: tws::Client::Impl, shared by client.cpp and client_requests.cpp.
#pragma once

#include "tws/client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace tws {

struct Client::Impl : std::enable_shared_from_this<Impl> {
  using tcp = boost::asio::ip::tcp;
  using Clock = std::chrono::steady_clock;

  enum class Phase { idle, connecting, handshaking, starting, ready, closing, closed };

  struct Outgoing {
    std::string bytes;
    bool paced;
  };
  struct PendingDetails {
    DetailsHandler done;
    std::vector<ContractDetails> details;
    std::shared_ptr<boost::asio::steady_timer> timer;
  };
  struct PendingSymbols {
    SymbolSamplesHandler done;
    std::shared_ptr<boost::asio::steady_timer> timer;
  };
  struct PendingHistorical {
    HistoricalTicksHandler done;
    std::vector<Tick> ticks;
    std::shared_ptr<boost::asio::steady_timer> timer;
  };

  Impl(Executor ex, ClientConfig cfg, Events ev)
      : ex_(std::move(ex)), cfg_(std::move(cfg)), events_(std::move(ev)), resolver_(ex_),
        socket_(ex_), connect_timer_(ex_), keepalive_timer_(ex_), pace_timer_(ex_),
        close_timer_(ex_) {
    tokens_ = static_cast<double>(std::max(1, cfg_.max_messages_per_second));
    last_refill_ = Clock::now();
  }

  // ------------------------------------------------------------ state
  Executor ex_;
  ClientConfig cfg_;
  Events events_;
  tcp::resolver resolver_;
  tcp::socket socket_;
  boost::asio::steady_timer connect_timer_;
  boost::asio::steady_timer keepalive_timer_;
  boost::asio::steady_timer pace_timer_;
  boost::asio::steady_timer close_timer_;
  Phase phase_ = Phase::idle;
  std::uint64_t gen_ = 0; // bumps per socket; stale handlers compare and bail
  FrameReader reader_;
  SessionInfo info_;
  bool have_id_ = false;
  bool have_accounts_ = false;

  // connect attempt
  std::size_t port_index_ = 0;
  std::string attempts_;
  std::error_code last_error_;
  ConnectHandler connect_done_;

  // writes
  std::deque<Outgoing> outbox_;
  std::vector<std::string> in_flight_;
  bool writing_ = false;
  bool pace_armed_ = false;
  double tokens_;
  Clock::time_point last_refill_;

  // requests
  int next_req_id_ = 1;
  std::map<int, PendingDetails> details_;
  std::map<int, PendingHistorical> historical_;
  std::map<int, PendingSymbols> symbols_;
  std::map<int, std::shared_ptr<TickCallbacks>> subs_;
  std::deque<TimeHandler> time_requests_;

  // liveness
  Clock::time_point last_rx_;
  Clock::time_point keepalive_sent_;
  bool keepalive_outstanding_ = false;

  // ------------------------------------------------------------ client.cpp
  // connect
  void connect(ConnectHandler done);
  void try_port(std::size_t i);
  void reset_socket();
  void attempt_failed(std::error_code ec, const std::string& why);
  void finish_connect(std::error_code ec, const std::string& detail);
  void on_tcp_connected();
  // reading
  void start_read();
  void on_read(boost::system::error_code ec, std::size_t n);
  void socket_failed(std::error_code ec, const std::string& why);
  void on_frame(std::string_view payload);
  // handshake: the session is ready once both have arrived
  void handle(NextValidId& m);
  void handle(ManagedAccounts& m);
  void maybe_ready();
  // writing
  void send_unpaced(std::string bytes);
  void send(std::string bytes);
  void refill();
  void pump();
  void arm_pace_timer();
  // liveness
  void arm_keepalive();
  void check_liveness();
  // teardown
  void fail_pending(std::error_code ec);
  void connection_ended(std::error_code ec, const std::string& why);
  void disconnect();

  // ------------------------------------------------------------ client_requests.cpp
  // dispatch
  void handle(ErrorMessage& m);
  static void log_notice(const ErrorMessage& m, const ErrorClass& cls);
  void handle(ContractData& m);
  void handle(ContractDataEnd& m);
  void handle(CurrentTime& m);
  template <class T> void deliver_tick(int req_id, T& tick);
  void handle(TickByTickLast& m);
  void handle(TickByTickBidAsk& m);
  void handle(TickByTickMidPoint& m);
  void handle(TickByTickNone&);
  void handle(HistoricalTicks& m);
  void handle(HistoricalTicksBidAsk& m);
  void handle(HistoricalTicksLast& m);
  void historical_reply(int req_id, bool done, std::vector<Tick>& ticks);
  void handle(SymbolSamples& m);
  void handle(OtherMessage& m);
  // requests
  int new_req_id();
  void request_contract_details(const Contract& c, DetailsHandler done);
  int subscribe(const Contract& c, TickType type, TickCallbacks cb);
  void cancel(int req_id);
  void request_time(TimeHandler done);
  void request_historical_ticks(const HistoricalTicksRequest& r, HistoricalTicksHandler done);
  void request_matching_symbols(const std::string& pattern, SymbolSamplesHandler done);
  /// A request timer: on expiry, the request `id` of `pending` (if still
  /// there) ends with ClientError::timeout.
  template <class Map>
  std::shared_ptr<boost::asio::steady_timer> arm_timeout(Map Impl::*pending, int id);
};

} // namespace tws

// http::DeltaSession: GET /studies/{contract}/delta (README "Multi-delta
// stream"): the multi-delta study of `ib-studies` (src/studies), run by the
// server over one contract's Last and BidAsk ticks, as a Server-Sent Events
// stream with one event per classified trade.
//
// One study per client: the session opens two client streams at the Hub
// (Last and BidAsk, each a stream::ClientStream on the session's loop, like
// a WebSocket connection's subscriptions), answers only once both are open
// (a refusal is still an HTTP status with the API's error JSON: 404, 429,
// 503), and feeds their ticks to a studies::MultiDeltaFeed in the order
// ib-studies applies them. With `duration` and a record, the record's
// ticks of both types from then on come first (read in pages on the
// HistoryWorkers and merged in time order as GET /replay merges them), then
// each stream goes on in its log right after the last recorded tick of its
// type (ClientStream::go_live_after): no tick is applied twice, none is
// skipped at the switch.
//
// Events (api.md §3 framing: no `event:` field, no `id:`): `info` (started,
// and `live` after the record), `trade` {contract_id, timestamp, source
// ("record" or "live"), data: format_trade_json's object}, the streams'
// notices as /stream sends them, `error` (SLOW_CONSUMER, a failed upstream),
// `complete` (limit_reached, timeout, stopped, shutdown; total_trades).
//
// Write contract: everything runs on the socket's event loop; at most one
// write is in flight; while it is, nothing more is read from the logs. The
// window and the slow-consumer rule are the ClientStreams'.
//
// Thread-safety: Subscriber::end may be called from any thread (the Hub's
// strand); it only posts to the session's loop. Everything else runs there.
#pragma once

#include "http/delta_params.hpp"
#include "http/server_state.hpp"
#include "http/stream_history.hpp"
#include "stream/client_stream.hpp"
#include "studies/multi_delta_feed.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <array>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

namespace http {

class DeltaSession : public stream::Subscriber,
                     public stream::LogConsumer,
                     public std::enable_shared_from_this<DeltaSession> {
public:
  /// The request as HttpSession validated and logs it.
  struct Request {
    DeltaRequest delta;
    std::optional<std::string> origin;
    std::string remote;
    std::string method;
    std::string path;
    std::string query; // redacted
    std::chrono::steady_clock::time_point received;
  };

  DeltaSession(boost::beast::tcp_stream stream, std::shared_ptr<ServerState> state,
               Request request);
  ~DeltaSession() override;

  /// Opens both streams at the Hub, then answers.
  void start();

  // stream::Subscriber (the Hub's strand): posts.
  void end(stream::EndReason reason, const std::optional<stream::Notice>& why) override;
  // stream::LogConsumer (our loop): either log advanced.
  void on_log_advanced() override;

private:
  enum class State { opening, refused, history, streaming, finished, closing, closed };

  /// One tick type: its client stream (whose Encoder it is) and its record.
  struct Lane : stream::ClientStream::Encoder {
    Lane(DeltaSession& s, tws::TickType t, stream::ClientStream::Options o)
        : session(s), type(t), client(o, *this) {}
    void tick(std::string& out, const stream::LogEntry& e, stream::LogCursor& at,
              std::uint64_t upto) override;
    void notice(std::string& out, const stream::LogEntry& e) override;
    void info(std::string& out, std::string_view code, std::string_view message,
              std::string_view extra_json) override;
    void error(std::string& out, std::string_view code, std::string_view message,
               std::string_view details) override;
    void complete(std::string&, std::string_view, std::uint64_t) override {}

    DeltaSession& session;
    const tws::TickType type;
    stream::ClientStream client;
    bool answered = false;
    std::uint64_t stream_id = 0;
    bool in_hub = false;
    std::optional<StreamHistory> history;
    std::deque<store::TickRecord> rows; // read, not yet merged
    bool exhausted = false;             // the record had no more at the last read
    bool progress = false;              // the last read had rows
  };

  void on_open(Lane& lane, stream::OpenResult result);
  void open_both();
  void refuse(const stream::OpenError& error);
  void history_next();
  void on_history_page(Lane& lane, std::size_t asked, std::vector<store::TickRecord> rows);
  void go_live();
  void on_live_tick(std::string& out, const stream::LogEntry& e);
  void emit(std::string& out, std::string_view source);
  void finish(std::string_view reason);
  void on_end(stream::EndReason reason, const std::optional<stream::Notice>& why);
  void pump();
  void read_live();
  void after_finished();
  void on_write(boost::system::error_code ec);
  void slow_consumer();
  void arm_flush();
  void do_read();
  void arm_timer();
  void on_timer(boost::system::error_code ec);
  void on_timeout(boost::system::error_code ec);
  void leave_hub();
  void finish_socket();
  void terminate(const char* why);
  void append_info(std::string& out, std::string_view code, std::string_view message,
                   std::string_view members);
  void append_error(std::string& out, std::string_view code, std::string_view message,
                    std::string_view details);
  bool limit_reached() const;

  boost::beast::tcp_stream stream_;
  const boost::asio::any_io_executor executor_;
  std::shared_ptr<ServerState> state_;
  Request request_;
  std::array<Lane, 2> lanes_; // BidAsk, Last: the order of ib-studies' tick types (ties)
  std::optional<stream::OpenError> refusal_;
  stream::ContractInfo contract_;
  studies::MultiDeltaFeed feed_;
  std::vector<studies::FedTrade> fed_;
  std::uint64_t trades_sent_ = 0;
  std::uint64_t record_trades_ = 0;
  boost::asio::steady_timer timeout_timer_;
  boost::asio::steady_timer timer_;       // keep-alive; while a write waits: slow checks
  boost::asio::steady_timer close_timer_; // linger after the last event, slow consumer
  boost::asio::steady_timer flush_timer_; // held live ticks applied
  std::string out_;                       // to be written
  std::string writing_;                   // the write in flight
  std::array<char, 1024> read_buffer_{};
  std::chrono::steady_clock::time_point last_write_;
  std::string end_reason_;
  State phase_ = State::opening;
  bool write_pending_ = false;
  bool flush_armed_ = false;
  bool error_sent_ = false;
};

} // namespace http

// http::WsSubscription: one subscription of a WebSocket connection (one
// client stream at the Hub, api.md §5 `request_id`): a stream::ClientStream
// - cursor, limit, counters, window, slow-consumer rule, exactly as an SSE
// client's - and its WebSocket encoding: every message about it is a text
// frame whose payload is the subscription's prefix
// `{"type":"<type>","request_id":"<rid>",` and the log entry's shared
// suffix (wire_formats.hpp); with permessage-deflate a tick is a stored
// DEFLATE block with the prefix plus the tick's suffix deflated once for
// all clients (ws_deflate.hpp), RSV1 set.
//
// Its connection (WsConnection) owns it, calls its ClientStream when the
// socket can take more, and is told when the log advances.
//
// Thread-safety: Subscriber::end may be called from any thread (the Hub's
// strand): it only posts to the connection's loop. Everything else runs on
// that loop.
#pragma once

#include "stream/client_stream.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace http {

class StreamHistory;
struct ServerState;
class WsSubscription;

/// What a subscription tells its connection; on the connection's loop.
class WsSubscriptionOwner {
public:
  virtual ~WsSubscriptionOwner() = default;
  /// Its log has something new: the connection reads and writes.
  virtual void on_sub_advanced() = 0;
  /// The Hub ended it.
  virtual void on_sub_end(const std::shared_ptr<WsSubscription>& sub, stream::EndReason reason,
                          const std::optional<stream::Notice>& why) = 0;
  /// A notice said TWS was lost (true) or is back (false) for it.
  virtual void on_sub_tws(const std::shared_ptr<WsSubscription>& sub, bool down) = 0;
};

class WsSubscription : public stream::Subscriber,
                       public stream::LogConsumer,
                       public stream::ClientStream::Encoder,
                       public std::enable_shared_from_this<WsSubscription> {
public:
  struct Params {
    std::string request_id; // "req-<n>"
    int con_id = 0;
    tws::TickType tick_type = tws::TickType::last;
    std::optional<int> limit;
    int timeout_seconds = 300;
    bool from_path = false; // the connect-time subscription of /ws/stream/{id}/{type}
    bool deflate = false;   // the connection compresses ticks
    std::size_t window = 100;
    std::chrono::milliseconds slow_after{5000};
    /// History then live: the recorded ticks from this time (Unix ms) first.
    std::optional<std::int64_t> since_ms;
  };

  enum class State {
    opening,  // Hub::open asked, `subscribed` not sent yet
    active,   // `subscribed` sent: its events go to the client
    finished, // its last message was sent, or it was unsubscribed
  };

  WsSubscription(boost::asio::any_io_executor loop, std::weak_ptr<WsSubscriptionOwner> owner,
                 Params params);
  ~WsSubscription() override;

  // stream::Subscriber: any thread; posts.
  void end(stream::EndReason reason, const std::optional<stream::Notice>& why) override;
  // stream::LogConsumer: the loop.
  void on_log_advanced() override;

  // The loop from here on.
  const Params& params() const { return params_; }
  const std::string& request_id() const { return params_.request_id; }
  State state() const { return state_; }
  bool active() const { return state_ == State::active; }
  bool finished() const { return state_ == State::finished; }
  stream::ClientStream& client() { return client_; }
  const stream::ContractInfo& contract() const { return contract_; }

  /// Hub::open succeeded.
  void opened(const stream::OpenResult& result);
  bool is_open() const { return stream_id_ != 0; }
  std::uint64_t stream_id() const { return stream_id_; }
  /// The Hub still knows it (close() it when leaving).
  bool in_hub() const { return in_hub_; }
  void set_in_hub(bool in) { in_hub_ = in; }
  /// `subscribed` was sent: joins its log's readers, or with `since` reads
  /// the record first (stream_history.hpp); its events flow.
  void activate(const std::shared_ptr<ServerState>& state);
  /// Appends its next messages to `out` (budget as ClientStream::read):
  /// from the record while in its history, then from the log.
  std::size_t read(std::string& out, std::size_t budget, std::chrono::steady_clock::time_point now);
  /// Reading the record (history before live): no window, no slow rule.
  bool in_history() const { return history_ != nullptr; }
  /// Its last message went out, or it was unsubscribed: reads no more.
  void set_finished();
  /// TWS is lost for it (TWS_DISCONNECTED .. reconnected).
  bool tws_down() const { return tws_down_; }
  void set_tws_down(bool down) { tws_down_ = down; }
  /// The client's `timeout` (armed by its connection).
  boost::asio::steady_timer& timeout_timer() { return timeout_timer_; }
  double duration_seconds() const;
  /// Messages encoded since the last call (for the statistics).
  std::size_t take_messages() {
    const auto n = messages_;
    messages_ = 0;
    return n;
  }

  // stream::ClientStream::Encoder: WebSocket text frames.
  void tick(std::string& out, const stream::LogEntry& e, stream::LogCursor& at,
            std::uint64_t upto) override;
  void notice(std::string& out, const stream::LogEntry& e) override;
  void info(std::string& out, std::string_view code, std::string_view message,
            std::string_view extra_json) override;
  void error(std::string& out, std::string_view code, std::string_view message,
             std::string_view details) override;
  void complete(std::string& out, std::string_view reason, std::uint64_t total_ticks) override;

private:
  boost::asio::any_io_executor loop_;
  std::weak_ptr<WsSubscriptionOwner> owner_;
  const Params params_;
  stream::ClientStream client_;
  // The per-client prefixes of its messages, and the tick prefix as a
  // stored DEFLATE block (the start of a compressed tick).
  std::string tick_prefix_, info_prefix_, error_prefix_, stored_tick_prefix_;
  boost::asio::steady_timer timeout_timer_;
  stream::ContractInfo contract_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::uint64_t stream_id_ = 0;
  std::size_t messages_ = 0;
  State state_ = State::opening;
  bool in_hub_ = false;
  bool tws_down_ = false;
  // History before live: the record's pages, encoded, waiting for room.
  void history_next();
  void go_live();
  std::unique_ptr<StreamHistory> history_;
  std::string history_out_;
  bool history_progress_ = true;
};

/// Appends a WebSocket text message (one unmasked final frame) to `out`.
void append_ws_text(std::string& out, std::string_view payload);

} // namespace http

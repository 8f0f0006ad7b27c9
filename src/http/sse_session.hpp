// http::SseSession: one Server-Sent Events response (api.md §3) on a socket
// handed over by HttpSession after the request was validated.
//
// It opens the client stream at the Hub BEFORE answering, so a refusal is
// still an HTTP status with the API's error JSON (429/503 with Retry-After).
// Then it writes the response head, `retry:`, the first `info`, and from
// then on whatever its ClientStream reads from the stream's log, until the
// stream is finished and written, or the client goes.
//
// Write contract (design.md): everything runs on the socket's event loop;
// at most one write is in flight. When the log advances the session reads
// [cursor, head) into its output buffer and hands the buffer to the socket
// at once (usually taken whole by a non-blocking write); what the socket
// does not take goes out with one asynchronous write, and the session reads
// nothing from the log until it completes - then it takes everything new in
// one batch. Per-client events (info, complete, error, keep-alive) are
// appended to the output buffer when they happen, in order. A pending read
// detects the client closing the connection.
//
// Thread-safety: Subscriber::end may be called from any thread (the Hub's
// strand); it only posts to the session's loop. Everything else runs there.
#pragma once

#include "http/event_loops.hpp"
#include "http/server_state.hpp"
#include "http/stream_history.hpp"
#include "http/stream_params.hpp"
#include "stream/client_stream.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace http {

class SseSession : public stream::Subscriber,
                   public stream::LogConsumer,
                   public stream::ClientStream::Encoder,
                   public std::enable_shared_from_this<SseSession> {
public:
  /// The request as HttpSession validated and logs it.
  struct Request {
    StreamRequest stream;
    std::optional<std::string> origin;
    std::string remote;
    std::string method;
    std::string path;
    std::string query; // redacted
    std::chrono::steady_clock::time_point received;
  };

  SseSession(boost::beast::tcp_stream stream, std::shared_ptr<ServerState> state, Request request);
  ~SseSession() override;

  /// Opens the stream at the Hub, then answers.
  void start();

  // stream::Subscriber (the Hub's strand): posts.
  void end(stream::EndReason reason, const std::optional<stream::Notice>& why) override;
  // stream::LogConsumer (our loop).
  void on_log_advanced() override;
  // stream::ClientStream::Encoder: SSE frames.
  void tick(std::string& out, const stream::LogEntry& e, stream::LogCursor& at,
            std::uint64_t upto) override;
  void notice(std::string& out, const stream::LogEntry& e) override;
  void info(std::string& out, std::string_view code, std::string_view message,
            std::string_view extra_json) override;
  void error(std::string& out, std::string_view code, std::string_view message,
             std::string_view details) override;
  void complete(std::string& out, std::string_view reason, std::uint64_t total_ticks) override;

private:
  enum class State {
    opening,   // waiting for the Hub's answer
    refused,   // answering with an HTTP error
    history,   // the recorded ticks before live (stream_history.hpp)
    streaming, // the stream runs
    finished,  // its last event is queued: writing what is left
    closing,   // everything written, send side shut down
    closed,    // socket closed, counters released
  };

  void on_open(stream::OpenResult result);
  /// History before live: the next page of the record, then live.
  void history_next();
  void on_history_page(std::vector<store::TickRecord> rows);
  void go_live();
  void refuse(const stream::OpenError& error);
  void on_end(stream::EndReason reason, const std::optional<stream::Notice>& why);
  /// Reads from the log and writes until the socket is busy or nothing is left.
  void pump();
  void after_finished();
  void on_write(boost::system::error_code ec, std::size_t bytes);
  /// A slow consumer: closes after a grace unless the client still reads.
  void do_read();
  void on_read(boost::system::error_code ec, std::size_t bytes);
  void arm_timer();
  void on_timer(boost::system::error_code ec);
  void on_timeout(boost::system::error_code ec);
  void slow_consumer();
  void leave_hub();
  void finish_socket();
  void terminate(const char* why);
  std::string info_event(std::string_view message, std::string_view members) const;

  boost::beast::tcp_stream stream_;
  const boost::asio::any_io_executor executor_; // the socket's event loop
  std::shared_ptr<ServerState> state_;
  Request request_;
  stream::ClientStream client_;
  stream::ContractInfo contract_;
  std::string stream_key_;
  boost::asio::steady_timer timeout_timer_;
  boost::asio::steady_timer timer_; // keep-alive, and while a write waits: slow-consumer checks
  boost::asio::steady_timer close_timer_;
  // What is to be written and not yet handed to the socket: the session's
  // own events and views of the log's frames (no copy per client); and the
  // bytes of the asynchronous write in flight (untouched until it completes).
  stream::SseBatch batch_;
  std::vector<boost::asio::const_buffer> buffers_;
  std::string writing_;
  std::array<char, 1024> read_buffer_{};
  std::chrono::steady_clock::time_point last_write_;
  std::int64_t written_received_ns_ = 0; // the oldest live tick being written (metrics)
  std::uint64_t stream_id_ = 0;
  std::string end_reason_; // why the stream finished, for the log
  State phase_ = State::opening;
  std::optional<StreamHistory> history_;
  std::uint64_t history_lost_ = 0; // a resume's ticks no longer held, if the record has none
  bool history_progress_ = true;   // the last page had rows
  bool in_hub_ = false;            // the Hub still knows this stream
  bool write_pending_ = false;     // an asynchronous write is in flight
};

} // namespace http

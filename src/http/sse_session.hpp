// http::SseSession: one Server-Sent Events response (api.md §3) on a socket
// handed over by HttpSession after the request was validated.
//
// It opens the client stream at the Hub BEFORE answering, so a refusal is
// still an HTTP status with the API's error JSON (429/503 with Retry-After).
// Then it writes the response head, `retry:`, and whatever its ClientStream
// queues, until the stream is finished and written, or the client goes.
//
// Write contract (design.md): everything for the socket runs on its strand;
// at most one async_write is in flight; frames that queue meanwhile go out
// together in the next gather write; timers (timeout, keep-alive) only
// queue frames. A pending read detects the client closing the connection.
//
// Thread-safety: the stream::Subscriber callbacks may be called from any
// thread (the Hub's strand); they only post to this session's strand.
#pragma once

#include "http/server_state.hpp"
#include "http/stream_params.hpp"
#include "stream/client_stream.hpp"
#include "stream/delivery_inbox.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace http {

class SseSession : public stream::Subscriber, public std::enable_shared_from_this<SseSession> {
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

  void deliver(const stream::TickEventPtr& tick) override;
  void notify(const stream::Notice& notice) override;
  void end(stream::EndReason reason, const std::optional<stream::Notice>& why) override;

private:
  void on_open(stream::OpenResult result);
  void refuse(const stream::OpenError& error);
  /// What the Hub hands over, in its order: a tick, a notice or the end.
  struct Inbound {
    enum class Kind { tick, notice, end };
    Kind kind = Kind::tick;
    stream::TickEventPtr tick;
    std::optional<stream::Notice> notice;
    stream::EndReason reason = stream::EndReason::stopped;
  };
  void enqueue(Inbound in);
  void drain_inbox();
  void after_event();
  void do_write();
  void on_write(boost::system::error_code ec, std::size_t bytes);
  void do_read();
  void on_read(boost::system::error_code ec, std::size_t bytes);
  void arm_keepalive();
  void on_keepalive(boost::system::error_code ec);
  void on_timeout(boost::system::error_code ec);
  void leave_hub();
  void finish_socket();
  void terminate(const char* why);

  boost::beast::tcp_stream stream_;
  const boost::asio::any_io_executor executor_; // the socket's strand
  std::shared_ptr<ServerState> state_;
  Request request_;
  stream::ClientStream client_;
  boost::asio::steady_timer timeout_timer_;
  boost::asio::steady_timer keepalive_timer_;
  boost::asio::steady_timer close_timer_;
  // The Hub's deliveries meet the session here: one post per batch rather
  // than per tick (under load a batch is many ticks, written together).
  stream::DeliveryInbox<Inbound> inbox_;
  std::vector<Inbound> draining_;    // strand only; swapped with inbox_
  std::vector<stream::Frame> taken_; // strand only; scratch for ClientStream::take
  // The bytes of one write, copied together: the socket takes a batch in
  // one piece (a gather write stops at 64 buffers, a burst is hundreds of
  // ticks). Untouched while an asynchronous write is in flight.
  std::string out_;
  std::array<char, 1024> read_buffer_{};
  std::chrono::steady_clock::time_point last_write_;
  std::uint64_t stream_id_ = 0;
  std::string end_reason_; // why the stream finished, for the log
  bool opened_ = false;    // Hub::open succeeded
  bool in_hub_ = false;    // the Hub still knows this stream
  bool write_pending_ = false;
  bool shutting_ = false;   // last frames written: send side shut down
  bool terminated_ = false; // socket closed, counters released
  bool client_gone_ = false;
  bool refused_ = false;          // answered with an error instead of the stream
  bool slow_timer_armed_ = false; // SLOW_CONSUMER: closing soon whatever happens
};

} // namespace http

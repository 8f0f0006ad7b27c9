// One API client connection: the TWS handshake, framing, the request-rate
// limit, and the outgoing byte queue.
//
// Handshake (tws-protocol.md §2): raw "API\0", then one framed
// "v<min>..<max>[ options]"; the answer is encode_server_hello() with the
// highest common version, and nothing else is sent until startApi. A wrong
// prefix, an unparsable range, no common version or broken framing (length
// 0, or 16 MiB and more) closes this connection only.
//
// Output: whatever is queued while a write is in flight is appended to one
// buffer and goes out in the next single write (one async_write in flight,
// batching under load). The queue is capped; a client that does not read
// is closed with an error log rather than letting memory grow.
//
// Thread-safety: none; every member runs on the simulator's strand.
// Lifetime: shared_ptr; pending operations keep it alive. Registries hold
// weak pointers.
#pragma once

#include "sim/request_pacer.hpp"
#include "sim/tick_frame.hpp"
#include "tws/wire.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace sim {

struct SimContext;

class ApiSession : public std::enable_shared_from_this<ApiSession> {
public:
  ApiSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<SimContext> ctx,
             std::uint64_t serial);

  /// Starts reading the handshake.
  void start();

  std::uint64_t serial() const { return serial_; }
  const std::string& peer() const { return peer_; }
  /// The negotiated server version (0 before the handshake).
  int server_version() const { return server_version_; }
  bool pace_api() const { return pace_api_; }
  /// Set once startApi was accepted with a free client id.
  std::optional<int> client_id() const { return client_id_; }
  bool api_started() const { return client_id_.has_value(); }
  void mark_started(int client_id) { client_id_ = client_id; }

  /// Queues complete frame bytes (from the codec).
  void send(std::string_view frame);
  /// Queues ERR_MSG(id, code, text) laid out for the negotiated version.
  void send_error(int id, int code, std::string_view text);
  /// Queues one tick for `req_id`. Never closes synchronously (the feed is
  /// walking its lists): an overflow posts the close.
  void deliver(const TickFrame& frame, int req_id);

  /// Closes at once; queued output is dropped.
  void close(std::string_view why);
  /// Stops reading, sends what is queued, then closes (e.g. after 326).
  void close_after_flush(std::string_view why);
  bool closed() const { return closed_; }

private:
  enum class Phase { prefix, versions, api };

  void do_read();
  void on_read(boost::system::error_code ec, std::size_t n);
  /// Handles buffered input; false once the connection is closing.
  bool process_input();
  bool on_versions(std::string_view payload);
  void on_frame(std::string_view payload);
  void drain_paced();
  void after_queue();
  void do_write();
  void on_write(boost::system::error_code ec);

  boost::asio::ip::tcp::socket socket_;
  std::shared_ptr<SimContext> ctx_;
  std::uint64_t serial_;
  std::string peer_;
  boost::asio::steady_timer deadline_; // handshake, then close-after-flush
  boost::asio::steady_timer pace_timer_;

  Phase phase_ = Phase::prefix;
  tws::FrameReader reader_;
  int server_version_ = 0;
  bool pace_api_ = false;
  std::optional<int> client_id_;

  RequestPacer pacer_;
  std::deque<std::string> paced_; // +PACEAPI: requests waiting for room
  bool pace_timer_armed_ = false;

  std::string queued_;    // bytes waiting for the next write
  std::string in_flight_; // bytes of the write in progress
  bool writing_ = false;
  bool overflowed_ = false;
  bool closing_ = false;
  bool closed_ = false;
  std::string closing_reason_;
};

} // namespace sim

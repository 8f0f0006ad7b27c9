// http::CoalescingStream: a write-combining stream layer for WebSocket
// sessions (websocket::stream<CoalescingStream<tcp_stream>>).
//
// A WebSocket write in Beast carries one message, so a session sending a
// burst of ticks would pay one socket write (a system call and a trip
// through the loopback TCP stack) per tick per client. This layer takes
// whole frames into one buffer and writes that buffer with one socket write;
// while a write waits for the socket, the next frames gather behind it and
// go out together in the next one (the same contract as
// the SSE sessions' gather writes).
//
// Two ways in, both in order in the same buffer:
// - async_write_some (Beast's own frames: the handshake answer, pongs,
//   pings, close, and data messages when the session lets Beast write them):
//   the bytes are copied and the handler is posted at once; when more than
//   high_water() bytes wait, the handler waits for a socket write to finish
//   (back-pressure).
// - append() + flush(): the owner's own complete frames (it checks
//   has_room() first and resumes from the written callback).
// Every write_some takes all of its bytes, so a Beast frame is never split
// by another frame: frames interleave only at frame boundaries, which keeps
// the WebSocket framing valid as long as the owner appends whole messages
// only while no Beast data message is being written.
//
// A write first goes to the socket at once (non-blocking); only what the
// socket does not take waits for an asynchronous write. Reads go straight to
// the next layer (a socket). Teardown (websocket close) first
// writes what is buffered. Lifetime: while a socket write is in flight the
// layer holds the owner (set_owner) alive. Everything runs on the next
// layer's executor (the session's event loop); not thread-safe otherwise.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace http {

template <class NextLayer> class CoalescingStream {
public:
  using executor_type = typename NextLayer::executor_type;
  /// Bytes buffered beyond which writers wait for the socket.
  static constexpr std::size_t kDefaultHighWater = 64 * 1024;
  /// A buffer that grew beyond this is released once it is empty again, so
  /// a burst does not pin memory on a connection that goes quiet.
  static constexpr std::size_t kKeepCapacity = 16 * 1024;

  template <class... Args>
  explicit CoalescingStream(Args&&... args) : next_(std::forward<Args>(args)...) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  NextLayer& next_layer() noexcept { return next_; }
  const NextLayer& next_layer() const noexcept { return next_; }

  /// Kept alive (locked) while a socket write is in flight.
  void set_owner(std::weak_ptr<void> owner) {
    owner_ = std::move(owner);
    has_owner_ = true;
  }
  /// Called on the executor after every asynchronous socket write (error or
  /// not): the owner resumes appending when it had stopped for room.
  void on_written(std::function<void(boost::system::error_code)> callback) {
    on_written_ = std::move(callback);
  }
  void set_high_water(std::size_t bytes) { high_water_ = bytes; }
  std::size_t high_water() const noexcept { return high_water_; }

  /// Bytes accepted and not yet handed to a completed socket write.
  std::size_t buffered() const noexcept { return pending_.size() + writing_.size(); }
  bool has_room() const noexcept { return !error_ && pending_.size() < high_water_; }
  /// The first socket write error (every later write fails with it).
  boost::system::error_code error() const noexcept { return error_; }
  /// Socket writes started so far, immediate or asynchronous (the
  /// coalescing is visible in tests).
  std::size_t writes_started() const noexcept { return writes_started_; }

  /// The buffer of accepted bytes: the owner may append whole frames to it
  /// directly (they go out with the next flush()); nothing else.
  std::string& buffer() noexcept { return pending_; }
  /// A socket write is in flight.
  bool writing() const noexcept { return writing_now_; }

  /// Buffers whole frames of the owner; they go out with the next flush().
  template <class ConstBufferSequence> void append(const ConstBufferSequence& buffers) {
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      const boost::asio::const_buffer b = *it;
      pending_.append(static_cast<const char*>(b.data()), b.size());
    }
  }
  /// Writes everything buffered: at once as far as the socket takes it (a
  /// non-blocking write), the rest with one asynchronous write; when a
  /// write is in flight, the buffered bytes go right after it.
  void flush() {
    for (;;) {
      if (writing_now_ || error_) return;
      admit_waiters();
      if (pending_.empty()) return;
      ++writes_started_;
      const std::size_t n = write_now();
      if (n == pending_.size()) {
        pending_.clear();
        continue; // waiting writers may go on
      }
      pending_.erase(0, n);
      std::shared_ptr<void> keep;
      if (has_owner_) {
        keep = owner_.lock();
        if (!keep) return; // the owner is going away
      }
      writing_.swap(pending_);
      writing_now_ = true;
      boost::asio::async_write(next_, boost::asio::buffer(writing_),
                               [this, keep = std::move(keep)](boost::system::error_code ec,
                                                              std::size_t) { on_flushed(ec); });
      return;
    }
  }

  template <class MutableBufferSequence, class ReadToken>
  auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
    return next_.async_read_some(buffers, std::forward<ReadToken>(token));
  }

  template <class ConstBufferSequence, class WriteToken>
  auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
    return boost::asio::async_initiate<WriteToken, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const ConstBufferSequence& b) {
          this->start_write(std::move(handler), b);
        },
        token, buffers);
  }

  /// Completes once everything accepted so far has been written (or the
  /// socket failed: then with its error).
  template <class Token> auto async_flush(Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this](auto handler) {
          if (error_) {
            boost::asio::post(get_executor(),
                              boost::beast::bind_front_handler(std::move(handler), error_));
            return;
          }
          waiters_.push_back(std::make_unique<Waiter<decltype(handler), boost::asio::const_buffer>>(
              std::move(handler), boost::asio::const_buffer(), get_executor(), true));
          flush(); // answers it once everything before it is written
        },
        token);
  }

private:
  /// A write (or a flush) that waits for the socket.
  struct Pending {
    virtual ~Pending() = default;
    virtual bool is_flush() const = 0;
    virtual std::size_t copy_to(std::string& out) = 0;
    virtual void finish(boost::system::error_code ec, std::size_t n) = 0;
  };
  template <class Handler, class Buffers> struct Waiter final : Pending {
    Waiter(Handler h, const Buffers& b, executor_type ex, bool flush)
        : handler(std::move(h)), buffers(b), executor(std::move(ex)), flush_only(flush) {}
    bool is_flush() const override { return flush_only; }
    std::size_t copy_to(std::string& out) override {
      const auto before = out.size();
      for (auto it = boost::asio::buffer_sequence_begin(buffers);
           it != boost::asio::buffer_sequence_end(buffers); ++it) {
        const boost::asio::const_buffer b = *it;
        out.append(static_cast<const char*>(b.data()), b.size());
      }
      return out.size() - before;
    }
    void finish(boost::system::error_code ec, std::size_t n) override {
      if constexpr (std::is_invocable_v<Handler&, boost::system::error_code, std::size_t>) {
        boost::asio::post(executor, boost::beast::bind_front_handler(std::move(handler), ec, n));
      } else {
        boost::asio::post(executor, boost::beast::bind_front_handler(std::move(handler), ec));
      }
    }
    Handler handler;
    Buffers buffers;
    executor_type executor;
    bool flush_only;
  };

  template <class Handler, class ConstBufferSequence>
  void start_write(Handler handler, const ConstBufferSequence& buffers) {
    if (error_) {
      boost::asio::post(get_executor(),
                        boost::beast::bind_front_handler(std::move(handler), error_, 0));
      return;
    }
    if (!waiters_.empty() || pending_.size() >= high_water_) {
      waiters_.push_back(std::make_unique<Waiter<Handler, ConstBufferSequence>>(
          std::move(handler), buffers, get_executor(), false));
      flush();
      return;
    }
    const auto before = pending_.size();
    append(buffers);
    const auto n = pending_.size() - before;
    flush();
    boost::asio::post(get_executor(), boost::beast::bind_front_handler(
                                          std::move(handler), boost::system::error_code(), n));
  }

  /// A non-blocking write of the buffered bytes: how many the socket took
  /// (0 when it would block or failed: the asynchronous write that follows
  /// waits, or reports the error).
  std::size_t write_now() {
    boost::system::error_code ec;
    if (!next_.non_blocking()) next_.non_blocking(true, ec);
    if (ec) return 0;
    const std::size_t n = next_.write_some(boost::asio::buffer(pending_), ec);
    return ec ? 0 : n;
  }

  /// Waiting writers take their turn, in order, as far as there is room; a
  /// flush waiter is answered once everything before it is written.
  void admit_waiters() {
    while (!waiters_.empty() && pending_.size() < high_water_) {
      auto& w = waiters_.front();
      if (w->is_flush()) {
        if (!pending_.empty() || writing_now_) return;
        w->finish({}, 0);
      } else {
        const auto n = w->copy_to(pending_);
        w->finish({}, n);
      }
      waiters_.erase(waiters_.begin());
    }
  }

  void on_flushed(boost::system::error_code ec) {
    writing_now_ = false;
    writing_.clear();
    if (writing_.capacity() > kKeepCapacity) std::string().swap(writing_);
    if (ec && !error_) error_ = ec;
    if (error_) {
      pending_.clear();
      auto waiters = std::move(waiters_);
      waiters_.clear();
      for (auto& w : waiters) w->finish(error_, 0);
    } else {
      flush();
    }
    if (on_written_) on_written_(ec);
  }

  NextLayer next_;
  std::string pending_; // accepted, waiting for the next socket write
  std::string writing_; // in the socket write in flight
  std::vector<std::unique_ptr<Pending>> waiters_;
  std::function<void(boost::system::error_code)> on_written_;
  std::weak_ptr<void> owner_;
  boost::system::error_code error_;
  std::size_t high_water_ = kDefaultHighWater;
  std::size_t writes_started_ = 0;
  bool has_owner_ = false;
  bool writing_now_ = false;
};

/// WebSocket teardown (found by argument-dependent lookup): write what is
/// buffered (the close frame among it), then tear the next layer down.
template <class NextLayer, class TeardownHandler>
void async_teardown(boost::beast::role_type role, CoalescingStream<NextLayer>& stream,
                    TeardownHandler&& handler) {
  auto ex = boost::asio::get_associated_executor(handler, stream.get_executor());
  stream.async_flush(
      boost::asio::bind_executor(ex, [&stream, role, h = std::forward<TeardownHandler>(handler)](
                                         boost::system::error_code) mutable {
        using boost::beast::websocket::async_teardown;
        async_teardown(role, stream.next_layer(), std::move(h));
      }));
}

/// Synchronous teardown: the buffered bytes of a write in flight may be cut.
template <class NextLayer>
void teardown(boost::beast::role_type role, CoalescingStream<NextLayer>& stream,
              boost::system::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, stream.next_layer(), ec);
}

} // namespace http

// close_when_reading_stops: when to close a connection whose last frames
// (a slow consumer's error, a close frame) are on their way - once the
// client stops acknowledging bytes (socket_progress.hpp), a minute at most.
//
// Runs on the socket's and the timer's event loop.
#pragma once

#include "http/socket_progress.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <utility>

namespace http {

/// The close of a connection whose last frames (a slow consumer's error, a
/// close frame) are on their way: calls `expired()` once the peer has
/// acknowledged nothing more for `grace` (checked every `grace`), or at the
/// first check after `deadline`. `expired` must keep `timer` and `socket`
/// alive (it holds the session); re-arming or cancelling `timer` abandons
/// the wait. One rule for SSE, WebSocket and delta streams.
template <class Socket, class Expired>
void close_when_reading_stops(boost::asio::steady_timer& timer, Socket& socket,
                              std::chrono::milliseconds grace,
                              std::chrono::steady_clock::time_point deadline, Expired expired) {
  const auto acked = [&socket]() -> std::uint64_t {
    return socket.is_open() ? bytes_acked(socket.native_handle()).value_or(0) : 0;
  };
  timer.expires_after(grace);
  timer.async_wait([&timer, &socket, grace, deadline, acked, mark = acked(),
                    expired = std::move(expired)](boost::system::error_code ec) mutable {
    if (ec) return;
    if (acked() > mark && std::chrono::steady_clock::now() < deadline)
      return close_when_reading_stops(timer, socket, grace, deadline, std::move(expired));
    expired();
  });
}

} // namespace http

// The WebSocket transport of ib-stream-server (api.md §5): HttpSession
// validates an upgrade request on /ws/stream/{contract_id}/{tick_type},
// /ws/stream/{contract_id}/multi or /ws/control and hands the socket over
// with start_ws_session(); a WsSession (ws_session_impl.hpp) owns it from
// then on.
//
// Refusals that a browser could not read as an HTTP status (bad API key,
// per-IP limit, invalid path) are made after the handshake: an `error`
// message, then a close code (4001, 1008, 4002).
//
// Thread-safety: call from the socket's event loop (HttpSession's).
#pragma once

#include "http/server_state.hpp"
#include "http/stream_params.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace http {

enum class WsEndpoint {
  stream,  // /ws/stream/{contract_id}/{tick_type}: subscribes at once
  multi,   // /ws/stream/{contract_id}/multi: subscribe messages
  control, // /ws/control: multi + get_stats, list_streams
};

/// The upgrade request as HttpSession validated it.
struct WsUpgrade {
  WsEndpoint endpoint = WsEndpoint::multi;
  std::optional<StreamRequest> stream; // endpoint == stream and the path is valid
  std::optional<ApiError> path_error;  // invalid path or query: error, then close 4002
  bool authorized = true;              // false: error AUTH_REQUIRED, then close 4001
  std::string ip;                      // the client's address (per-IP limit)
  std::string remote;                  // ip:port, for logs and /stream/active
  std::string path;                    // for the access log
  std::string query;                   // redacted
  std::chrono::steady_clock::time_point received;
};

/// Accepts the WebSocket handshake of `request` on `stream` and serves the
/// connection. `buffer` holds what was read after the request: a client
/// waits for the handshake's answer before it sends frames, so it is empty.
void start_ws_session(boost::beast::tcp_stream stream, boost::beast::flat_buffer buffer,
                      boost::beast::http::request<boost::beast::http::string_body> request,
                      std::shared_ptr<ServerState> state, WsUpgrade upgrade);

} // namespace http

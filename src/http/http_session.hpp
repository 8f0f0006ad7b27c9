// http::HttpSession: one HTTP/1.1 connection of ib-stream-server. Reads
// requests with a fresh parser each (small body limit, header timeout),
// applies CORS and the API key, routes (router.hpp) and answers the JSON
// endpoints with keep-alive; a stream request hands the socket over to an
// SseSession, a WebSocket upgrade (/ws/stream/..., /ws/control) to a
// WsSession (ws_session.hpp); either owns it from then on.
//
// Thread-safety: all of it runs on the socket's event loop (the listener
// hands each connection to one loop); Hub completions post back to it.
#pragma once

#include "http/server_state.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <memory>

namespace http {

/// Starts serving an accepted socket (whose executor is its event loop).
void start_http_session(boost::asio::ip::tcp::socket socket, std::shared_ptr<ServerState> state);

} // namespace http

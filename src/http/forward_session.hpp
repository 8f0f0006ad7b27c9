// An edge's answer to GET /history/... (README "Scale-out"): the request,
// validated here as on a single node, is forwarded to the publisher over
// NATS (ScaleOut::forward), whose record answers it; its raw HTTP response
// is written to the client piece by piece, the next piece asked for only
// once the previous one is written (the client's pace), then the
// connection is closed (the answer says `Connection: close`). No publisher
// answering: 503.
//
// Thread-safety: one session on its connection's event loop.
#pragma once

#include "http/server_state.hpp"

#include <boost/beast/core/tcp_stream.hpp>

#include <memory>
#include <string>

namespace http {

void start_forward_session(boost::beast::tcp_stream stream, std::shared_ptr<ServerState> state,
                           std::string target, std::string origin, std::string log_line);

} // namespace http

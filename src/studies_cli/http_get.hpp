// One GET to ib-stream-server over Beast, the part every HTTP client of
// ib-studies shares (SseSource, ServerReplay, the contract lookup): the
// request with its headers (Host, Accept, User-Agent, the API key as
// `Authorization: Bearer`), resolve, connect, send, read the response
// header; and the body of a refusal. Timeouts: 5 s to connect, 10 s to send
// and to read the header (the caller's `header_timeout` when longer).
//
// Not thread-safe: a stream is used by one coroutine on its executor's thread.
#pragma once

#include "studies_cli/tick_source.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace studies_cli {

using GetRequest = boost::beast::http::request<boost::beast::http::empty_body>;
/// The response as it is read: the header first, then the body in chunks.
using GetResponseParser = boost::beast::http::response_parser<boost::beast::http::buffer_body>;

/// GET `target` (path and query) with the headers ib-studies sends.
GetRequest make_get(const ServerAddress& server, const std::string& target,
                    const std::string& accept, const std::string& api_key);

/// Resolves the server, connects `stream`, sends `req` and reads the
/// response header into `parser` (body unlimited). Returns "" when the
/// header was read, else why not ("cannot resolve HOST: ...", the connect
/// error, "sending the request: ...", "reading the response: ..."). Stops
/// between steps once `stopping()` is true (the caller checks it first).
boost::asio::awaitable<std::string>
open_get(boost::beast::tcp_stream& stream, const ServerAddress& server, const GetRequest& req,
         boost::beast::flat_buffer& buffer, GetResponseParser& parser,
         std::function<bool()> stopping,
         std::chrono::steady_clock::duration header_timeout = std::chrono::seconds(10));

/// The rest of a response whose header `open_get` read (a refusal, or a
/// small JSON answer): the body as text, at most 64 KiB, as much of it as
/// came within 10 s.
boost::asio::awaitable<std::string> read_body(boost::beast::tcp_stream& stream,
                                              boost::beast::flat_buffer& buffer,
                                              GetResponseParser& parser);

} // namespace studies_cli

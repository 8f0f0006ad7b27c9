#include "studies_cli/http_get.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace studies_cli {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr std::chrono::seconds kConnectTimeout{5};
constexpr std::chrono::seconds kRequestTimeout{10};
constexpr std::size_t kBodyLimit = 64 * 1024;

} // namespace

GetRequest make_get(const ServerAddress& server, const std::string& target,
                    const std::string& accept, const std::string& api_key) {
  GetRequest req{http::verb::get, target, 11};
  req.set(http::field::host, server.host_port);
  req.set(http::field::accept, accept);
  req.set(http::field::user_agent, "ib-studies/0.1.0");
  if (!api_key.empty()) req.set(http::field::authorization, "Bearer " + api_key);
  return req;
}

asio::awaitable<std::string> open_get(beast::tcp_stream& stream, const ServerAddress& server,
                                      const GetRequest& req, beast::flat_buffer& buffer,
                                      GetResponseParser& parser, std::function<bool()> stopping,
                                      std::chrono::steady_clock::duration header_timeout) {
  beast::error_code ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  const std::string stopped = "stopped";

  asio::ip::tcp::resolver resolver(stream.get_executor());
  auto endpoints = co_await resolver.async_resolve(server.host, server.port, token);
  if (stopping()) co_return stopped;
  if (ec) co_return "cannot resolve " + server.host + ": " + ec.message();
  stream.expires_after(kConnectTimeout);
  co_await stream.async_connect(endpoints, token);
  if (stopping()) co_return stopped;
  if (ec) co_return ec.message();

  stream.expires_after(kRequestTimeout);
  co_await http::async_write(stream, req, token);
  if (stopping()) co_return stopped;
  if (ec) co_return "sending the request: " + ec.message();

  parser.body_limit(boost::none);
  stream.expires_after(
      std::max<std::chrono::steady_clock::duration>(header_timeout, kRequestTimeout));
  co_await http::async_read_header(stream, buffer, parser, token);
  if (stopping()) co_return stopped;
  if (ec) co_return "reading the response: " + ec.message();
  co_return std::string();
}

asio::awaitable<std::string> read_body(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                       GetResponseParser& parser) {
  beast::error_code ec;
  http::response_parser<http::string_body> body_parser{std::move(parser)};
  body_parser.body_limit(kBodyLimit);
  stream.expires_after(kRequestTimeout);
  co_await http::async_read(stream, buffer, body_parser,
                            asio::redirect_error(asio::use_awaitable, ec));
  co_return body_parser.get().body(); // what came, also of a cut-off answer
}

} // namespace studies_cli

#include "studies_cli/server_replay.hpp"

#include "studies_cli/http_get.hpp"
#include "studies_cli/options.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <algorithm>

namespace studies_cli {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;

namespace {

// The server fills long pauses of a paced replay with `: keepalive`.
constexpr auto kIdleTimeout = 45s;

std::string encoded(const std::string& s) {
  return boost::urls::encode(s, boost::urls::unreserved_chars);
}

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  return s;
}

} // namespace

ServerReplay::ServerReplay(asio::any_io_executor ex, ServerAddress server, int contract_id,
                           std::vector<std::string> tick_types, ReplayRange range,
                           std::string api_key, SourceEvents events)
    : ex_(ex), server_(std::move(server)), contract_id_(contract_id),
      tick_types_(std::move(tick_types)), range_(std::move(range)), api_key_(std::move(api_key)),
      events_(std::move(events)), stream_(ex) {}

void ServerReplay::start() {
  asio::co_spawn(
      ex_, [self = shared_from_this()] { return self->run(); }, asio::detached);
}

void ServerReplay::stop() {
  if (stopping_) return;
  stopping_ = true;
  beast::error_code ec;
  stream_.socket().close(ec);
}

std::string ServerReplay::target() const {
  std::string types;
  for (const auto& t : tick_types_) types += (types.empty() ? "" : ",") + t;
  const std::string from = range_.start.empty() ? "&duration=" + encoded(range_.duration)
                                                : "&start=" + encoded(range_.start);
  return server_.prefix + "/replay/" + std::to_string(contract_id_) +
         "?tick_types=" + encoded(types) + from + "&end=" + encoded(range_.end) +
         "&speed=" + encoded(range_.speed);
}

void ServerReplay::fail(int exit_code, const std::string& message) {
  if (done_ || stopping_) return;
  done_ = true;
  events_.fatal(exit_code, one_line(message));
}

asio::awaitable<void> ServerReplay::run() {
  beast::error_code ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  const std::string where = "ib-stream-server at http://" + server_.host_port;
  auto cannot_connect = [&](const std::string& why) {
    fail(kExitCannotConnect, "cannot connect to " + where + " for " + what_ + ": " + why);
  };

  beast::flat_buffer buffer;
  GetResponseParser parser;
  const std::string failure = co_await open_get(
      stream_, server_, make_get(server_, target(), "text/event-stream", api_key_), buffer, parser,
      [this] { return stopping_; });
  if (stopping_) co_return;
  if (!failure.empty()) co_return cannot_connect(failure);

  const unsigned status = parser.get().result_int();
  if (status != 200) {
    const std::string body = co_await read_body(stream_, buffer, parser);
    if (stopping_) co_return;
    const std::string message = api_error_message(body);
    if (status == 404 && not_recorded_) {
      done_ = true;
      co_return not_recorded_(one_line(message));
    }
    std::string why =
        "the server refused " + what_ + ": HTTP " + std::to_string(status) + " " + message;
    if (status == 401 || status == 403) why += " (pass the server's key with --api-key)";
    co_return fail(kExitCannotConnect, why);
  }

  char chunk[16 * 1024];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    stream_.expires_after(kIdleTimeout);
    co_await http::async_read_some(stream_, buffer, parser, token);
    if (stopping_) co_return;
    if (ec == http::error::need_buffer) ec = {};
    const std::size_t n = sizeof chunk - parser.get().body().size;
    if (n > 0) {
      for (const auto& e : parser_.feed(std::string_view(chunk, n))) {
        if (!on_event(e) || stopping_) co_return;
      }
    }
    const std::string after = " after " + std::to_string(ticks_) + " ticks";
    if (ec == beast::error::timeout)
      co_return fail(kExitIncomplete, what_ + " stopped without its end: no data for 45 s" + after +
                                          " (not even a keep-alive)");
    if (ec)
      co_return fail(kExitIncomplete, what_ + " stopped without its end: connection lost" + after +
                                          ": " + ec.message());
  }
  fail(kExitIncomplete, what_ +
                            " stopped without its end: the server closed the connection "
                            "after " +
                            std::to_string(ticks_) + " ticks, before `complete`");
}

bool ServerReplay::on_event(const studies::SseEvent& e) {
  studies::StreamEvent ev;
  std::string error;
  if (!studies::parse_stream_event(e.data, ev, error)) {
    notice("replay: skipping an unreadable event: " + error);
    return true;
  }
  if (ev.type == "tick") {
    ++ticks_;
    events_.tick(ev, e.data);
    return true;
  }
  if (ev.type == "complete") {
    std::string reason;
    if (const auto* r = ev.json.if_contains("reason"); r && r->is_string())
      reason = r->get_string();
    if (reason != "replay_end") {
      fail(kExitIncomplete, what_ + " stopped without its end: complete, reason " + reason +
                                " after " + std::to_string(ticks_) + " ticks");
      return false;
    }
    done_ = true;
    events_.ended();
    return false;
  }
  if (ev.type == "error") {
    std::string text;
    if (const auto* err = ev.json.if_contains("error"); err && err->is_object()) {
      const auto& o = err->get_object();
      if (const auto* c = o.if_contains("code"); c && c->is_string()) text += c->get_string();
      if (const auto* m = o.if_contains("message"); m && m->is_string())
        text += ": " + std::string(m->get_string());
    }
    fail(kExitIncomplete,
         what_ + " failed after " + std::to_string(ticks_) + " ticks: server error " + text);
    return false;
  }
  return true; // `info`: the replay's description
}

} // namespace studies_cli

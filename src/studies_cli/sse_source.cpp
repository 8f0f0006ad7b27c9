#include "studies_cli/sse_source.hpp"

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

namespace studies_cli {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;

namespace {

// The server sends `: keepalive` after 15 s of silence: 45 s without a byte
// means the connection is dead even if TCP has not noticed.
constexpr auto kIdleTimeout = 45s;

} // namespace

SseSource::SseSource(asio::any_io_executor ex, ServerAddress server, int contract_id,
                     std::string tick_type, std::string api_key, LiveStart start,
                     SourceEvents events)
    : ex_(ex), server_(std::move(server)), contract_id_(contract_id),
      tick_type_(std::move(tick_type)), api_key_(std::move(api_key)),
      since_(std::move(start.since)), events_(std::move(events)), stream_(ex), timer_(ex) {
  // The record was read up to this tick: resume right after it, as after a
  // dropped connection (no since=).
  if (start.after) {
    last_id_ = std::move(start.after->last);
    got_tick_ = true;
  }
}

void SseSource::start() {
  asio::co_spawn(
      ex_, [self = shared_from_this()] { return self->run(); }, asio::detached);
}

void SseSource::stop() {
  if (stopping_) return;
  stopping_ = true;
  beast::error_code ec;
  stream_.socket().close(ec);
  timer_.cancel();
}

std::string SseSource::what() const { return "the " + tick_type_ + " SSE stream"; }

std::string SseSource::target() const {
  // timeout=3600: the longest the server allows; on `complete` (timeout) the
  // stream is resumed anyway.
  std::string t = server_.prefix + "/stream/" + std::to_string(contract_id_) + "/" + tick_type_ +
                  "?timeout=3600";
  // History then live, until the first tick: from then on Last-Event-ID.
  if (!since_.empty() && !got_tick_)
    t += "&since=" + boost::urls::encode(since_, boost::urls::unreserved_chars);
  return t;
}

asio::awaitable<void> SseSource::run() {
  while (!stopping_ && !ended_) {
    const Next next = co_await stream_once();
    beast::error_code ec;
    stream_.socket().close(ec);
    if (stopping_ || ended_ || next == Next::stop) break;
    if (got_event_) backoff_.reset();
    const auto delay = backoff_.next();
    notice("reconnecting " + what() + " in " + std::to_string(delay.count()) + " ms" +
           (last_id_ ? " (resuming after id " + last_id_->text + ")" : ""));
    timer_.expires_after(delay);
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<SseSource::Next> SseSource::stream_once() {
  beast::error_code ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  got_event_ = false;
  first_tick_ = true;
  first_info_ = true;
  lost_reported_ = false;
  got_complete_ = false;
  parser_.reset();

  const std::string where = "http://" + server_.host_port;
  auto cannot_connect = [&](const std::string& why) {
    if (!ever_connected_) {
      events_.fatal(kExitCannotConnect, "cannot connect to ib-stream-server at " + where + ": " +
                                            why +
                                            "\nIs it running? Start it with ./run.sh "
                                            "(or ib-stream-server --simulate), or pass "
                                            "--server URL.");
      return Next::stop;
    }
    notice(what() + ": " + why);
    return Next::reconnect;
  };

  GetRequest req = make_get(server_, target(), "text/event-stream", api_key_);
  if (last_id_) req.set("Last-Event-ID", last_id_->text);
  beast::flat_buffer buffer;
  GetResponseParser parser;
  const std::string failure =
      co_await open_get(stream_, server_, req, buffer, parser, [this] { return stopping_; });
  if (stopping_) co_return Next::stop;
  if (!failure.empty()) co_return cannot_connect(failure);

  const unsigned status = parser.get().result_int();
  if (status != 200) {
    const std::string body = co_await read_body(stream_, buffer, parser);
    if (stopping_) co_return Next::stop;
    const std::string why = "HTTP " + std::to_string(status) + " " + api_error_message(body);
    if (status == 401 || status == 403) {
      events_.fatal(kExitCannotConnect, "the server refused " + what() + ": " + why +
                                            "\nPass the server's key with --api-key (or "
                                            "IB_STREAM_API_KEY).");
      co_return Next::stop;
    }
    if (status == 400 || status == 404) {
      events_.fatal(kExitCannotConnect, "the server refused " + what() + ": " + why);
      co_return Next::stop;
    }
    // 429, 503 (TWS not connected yet), 5xx: the server is there; try again.
    ever_connected_ = true;
    notice(what() + ": " + why);
    co_return Next::reconnect;
  }
  if (ever_connected_ && connections_ > 0) notice(what() + ": reconnected");
  ever_connected_ = true;
  ++connections_;

  char chunk[16 * 1024];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    stream_.expires_after(kIdleTimeout);
    co_await http::async_read_some(stream_, buffer, parser, token);
    if (stopping_) co_return Next::stop;
    if (ec == http::error::need_buffer) ec = {};
    const std::size_t n = sizeof chunk - parser.get().body().size;
    if (n > 0) {
      for (const auto& e : parser_.feed(std::string_view(chunk, n))) {
        on_event(e);
        if (stopping_ || ended_) co_return Next::stop;
      }
    }
    if (ec == beast::error::timeout) {
      notice(what() + ": no data for 45 s (not even a keep-alive)");
      co_return Next::reconnect;
    }
    if (ec) {
      notice(what() + ": connection lost: " + ec.message());
      co_return Next::reconnect;
    }
  }
  // The body is close-delimited: its end is the connection's. Without a
  // `complete` first, the server went away (crashed, killed, restarted).
  if (!got_complete_) notice(what() + ": connection lost: the server closed the connection");
  co_return Next::reconnect;
}

void SseSource::on_event(const studies::SseEvent& e) {
  got_event_ = true;
  studies::StreamEvent ev;
  std::string error;
  if (!studies::parse_stream_event(e.data, ev, error)) {
    notice(what() + ": skipping an unreadable event: " + error);
    return;
  }
  if (ev.type == "tick") {
    auto id = e.id ? parse_event_id(*e.id) : std::nullopt;
    if (id) {
      if (last_id_ && *id <= *last_id_) {
        if (!first_tick_) return; // a tick we already have (replayed on resume)
        notice(what() + ": the server's sequence restarted (id " + id->text + " after " +
               last_id_->text + "): ticks may be missing");
      } else if (const auto missing = last_id_ ? ticks_missing_between(*last_id_, *id) : 0;
                 missing > 0 && !lost_reported_) {
        notice(what() + ": gap: " + std::to_string(missing) + " ticks missing (event ids " +
               last_id_->text + " -> " + id->text + ")");
      }
      last_id_ = std::move(id);
    }
    first_tick_ = false;
    got_tick_ = true;
    events_.tick(ev, e.data);
  } else if (ev.type == "info") {
    on_info(ev);
  } else if (ev.type == "error") {
    std::string text;
    if (const auto* err = ev.json.if_contains("error"); err && err->is_object()) {
      const auto& o = err->get_object();
      if (const auto* c = o.if_contains("code"); c && c->is_string()) text += c->get_string();
      if (const auto* m = o.if_contains("message"); m && m->is_string())
        text += ": " + std::string(m->get_string());
    }
    notice(what() + ": server error " + text);
  } else if (ev.type == "complete") {
    got_complete_ = true;
    std::string reason;
    if (const auto* r = ev.json.if_contains("reason"); r && r->is_string())
      reason = r->get_string();
    if (reason == "stopped") {
      notice(what() + ": stopped by the server (complete, reason stopped)");
      ended_ = true;
      events_.ended();
    } else {
      notice(what() + ": complete (" + reason + ")");
    }
  }
}

void SseSource::on_info(const studies::StreamEvent& ev) {
  const auto* info_v = ev.json.if_contains("info");
  if (!info_v || !info_v->is_object()) return;
  const auto& info = info_v->get_object();
  std::string message;
  if (const auto* m = info.if_contains("message"); m && m->is_string()) message = m->get_string();
  if (first_info_) {
    // The stream's opening event: it describes the contract.
    first_info_ = false;
    if (const auto* c = info.if_contains("contract"); c && c->is_object())
      if (const auto* t = c->get_object().if_contains("min_tick"); t && t->is_number())
        events_.min_tick(t->to_number<double>());
    if (!info.contains("ticks_lost") && !info.contains("code")) return;
  }
  notice(what() + ": server notice: " + message);
  if (const auto* lost = info.if_contains("ticks_lost"); lost && lost->is_number()) {
    lost_reported_ = true;
    notice(what() + ": gap: the server no longer had " +
           std::to_string(lost->to_number<std::int64_t>()) + " ticks to resume with");
  }
  if (const auto* code = info.if_contains("code");
      code && code->is_string() && code->get_string() == "resume_unknown")
    last_id_.reset(); // a new subscription: its ids start over
}

} // namespace studies_cli

#include "studies_cli/ws_source.hpp"

#include "stream/tick_json.hpp"
#include "studies_cli/options.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <algorithm>

namespace studies_cli {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

std::string str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

const json::object* obj(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

} // namespace

WsSource::WsSource(asio::any_io_executor ex, ServerAddress server, int contract_id,
                   std::vector<std::string> tick_types, std::string api_key,
                   std::map<std::string, LiveStart> starts, SourceEvents events)
    : ex_(ex), server_(std::move(server)), contract_id_(contract_id),
      tick_types_(std::move(tick_types)), api_key_(std::move(api_key)), events_(std::move(events)),
      timer_(ex) {
  for (const auto& type : tick_types_) {
    TypeStart& t = starts_[type];
    const auto it = starts.find(type);
    if (it == starts.end()) continue;
    if (it->second.after) {
      // No resume over WebSocket: from the second of the last tick applied,
      // that second's applied ticks dropped (resume_point.hpp).
      t.since = std::to_string(it->second.after->second);
      t.skip = SecondSkip(*it->second.after);
    } else {
      t.since = it->second.since;
    }
  }
}

void WsSource::start() {
  asio::co_spawn(
      ex_, [self = shared_from_this()] { return self->run(); }, asio::detached);
}

void WsSource::stop() {
  if (stopping_) return;
  stopping_ = true;
  if (ws_) {
    beast::error_code ec;
    beast::get_lowest_layer(*ws_).socket().close(ec);
  }
  timer_.cancel();
}

std::string WsSource::target() const {
  std::string t = server_.prefix + "/ws/stream/" + std::to_string(contract_id_) + "/multi";
  if (!api_key_.empty())
    t += "?api_key=" + boost::urls::encode(api_key_, boost::urls::unreserved_chars);
  return t;
}

std::string WsSource::params_of(const std::string& tick_type) {
  // timeout 3600: the longest allowed; a completed subscription is renewed.
  // since: history then live, until the type's first tick.
  std::string params = "{\"timeout\":3600";
  TypeStart& t = starts_[tick_type];
  if (!t.since.empty() && !t.got_tick) {
    params += ",\"since\":" + json::serialize(json::string(t.since));
    t.skip.restart(); // the server sends that second again
  }
  params += "}";
  return params;
}

std::vector<std::string> WsSource::subscribe_all() {
  // Tick types that begin alike share one message.
  std::vector<std::pair<std::string, std::vector<std::string>>> groups; // params -> types
  for (const auto& type : tick_types_) {
    const std::string params = params_of(type);
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const auto& g) { return g.first == params; });
    if (it == groups.end()) groups.push_back({params, {type}});
    else it->second.push_back(type);
  }
  std::vector<std::string> out;
  for (const auto& g : groups) out.push_back(subscribe_message(g.second));
  return out;
}

std::string WsSource::subscribe_message(const std::vector<std::string>& types) {
  std::string id = "ib-studies-" + std::to_string(next_id_++);
  const std::string params = params_of(types.front()); // the same for all of them
  std::string out;
  if (types.size() == 1) {
    out = "{\"type\":\"subscribe\",\"id\":\"" + id +
          "\",\"data\":{\"contract_id\":" + std::to_string(contract_id_) + ",\"tick_type\":\"" +
          types.front() + "\",\"params\":" + params + "}}";
  } else {
    out = "{\"type\":\"multi_subscribe\",\"id\":\"" + id +
          "\",\"data\":{\"contract_id\":" + std::to_string(contract_id_) + ",\"tick_types\":[";
    for (std::size_t i = 0; i < types.size(); ++i) out += (i ? ",\"" : "\"") + types[i] + "\"";
    out += "],\"params\":" + params + "}}";
  }
  return out;
}

asio::awaitable<void> WsSource::run() {
  while (!stopping_) {
    const Next next = co_await connect_once();
    if (ws_) {
      beast::error_code ec;
      beast::get_lowest_layer(*ws_).socket().close(ec);
      // Gone with the stream: its keep-alive ping timer, which would keep
      // the io_context running after stop().
      ws_.reset();
    }
    if (stopping_ || next == Next::stop) break;
    if (got_tick_) backoff_.reset();
    const auto delay = backoff_.next();
    notice("reconnecting the WebSocket in " + std::to_string(delay.count()) + " ms");
    timer_.expires_after(delay);
    beast::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<WsSource::Next> WsSource::connect_once() {
  beast::error_code ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  got_tick_ = false;
  retry_ = false;
  requests_.clear();
  out_.clear();
  const std::string where = "ws://" + server_.host_port + target().substr(0, target().find('?'));
  auto cannot_connect = [&](const std::string& why) {
    if (!ever_connected_) {
      events_.fatal(kExitCannotConnect, "cannot connect to " + where + ": " + why +
                                            "\nIs ib-stream-server running (./run.sh), with "
                                            "WebSocket support? Or try --transport sse.");
      return Next::stop;
    }
    notice("WebSocket: " + why);
    return Next::reconnect;
  };

  tcp::resolver resolver(ex_);
  auto endpoints = co_await resolver.async_resolve(server_.host, server_.port, token);
  if (stopping_) co_return Next::stop;
  if (ec) co_return cannot_connect("cannot resolve " + server_.host + ": " + ec.message());
  ws_.emplace(ex_);
  auto& ws = *ws_;
  beast::get_lowest_layer(ws).expires_after(5s);
  co_await beast::get_lowest_layer(ws).async_connect(endpoints, token);
  if (stopping_) co_return Next::stop;
  if (ec) co_return cannot_connect(ec.message());

  beast::get_lowest_layer(ws).expires_never();
  websocket::stream_base::timeout opt{};
  opt.handshake_timeout = 10s;
  // Pings after 20 s of silence; no answer within 40 s in all ends the connection.
  opt.idle_timeout = 40s;
  opt.keep_alive_pings = true;
  ws.set_option(opt);
  ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
    req.set(beast::http::field::user_agent, "ib-studies/0.1.0");
  }));
  ws.read_message_max(4 * 1024 * 1024);
  websocket::response_type res;
  co_await ws.async_handshake(res, server_.host_port, target(), token);
  if (stopping_) co_return Next::stop;
  if (ec) {
    const unsigned status = res.result_int();
    if (status == 401 || status == 403) {
      events_.fatal(kExitCannotConnect, "the server refused the WebSocket: HTTP " +
                                            std::to_string(status) +
                                            "\nPass the server's key with --api-key (or "
                                            "IB_STREAM_API_KEY).");
      co_return Next::stop;
    }
    if (status == 404 && !ever_connected_) {
      events_.fatal(kExitCannotConnect,
                    "the server has no WebSocket endpoint " + where +
                        " (HTTP 404): an ib-stream-server without WebSocket? Try --transport sse.");
      co_return Next::stop;
    }
    co_return cannot_connect("WebSocket handshake failed: " + ec.message() +
                             (status ? " (HTTP " + std::to_string(status) + ")" : ""));
  }
  if (ever_connected_)
    notice("WebSocket reconnected: ticks sent while it was down are lost (no resume over "
           "WebSocket)");
  ever_connected_ = true;

  out_ = subscribe_all();
  beast::flat_buffer buffer;
  while (!stopping_) {
    // Writes happen here only, between reads: one write in flight at most.
    while (!out_.empty()) {
      std::string msg = std::move(out_.front());
      out_.erase(out_.begin());
      ws.text(true);
      co_await ws.async_write(asio::buffer(msg), token);
      if (stopping_) co_return Next::stop;
      if (ec) {
        notice("WebSocket: sending failed: " + ec.message());
        co_return Next::reconnect;
      }
    }
    buffer.clear();
    co_await ws.async_read(buffer, token);
    if (stopping_) co_return Next::stop;
    if (ec == websocket::error::closed) {
      notice("WebSocket closed by the server (" + std::to_string(ws.reason().code) +
             (ws.reason().reason.empty()
                  ? ""
                  : " " + std::string(ws.reason().reason.data(), ws.reason().reason.size())) +
             ")");
      co_return ws.reason().code == 4001 ? Next::stop : Next::reconnect;
    }
    if (ec) {
      notice("WebSocket: connection lost: " + ec.message());
      co_return Next::reconnect;
    }
    if (!ws.got_text()) continue;
    if (!on_message(beast::buffers_to_string(buffer.data()))) co_return Next::stop;
    if (retry_) co_return Next::reconnect;
  }
  co_return Next::stop;
}

bool WsSource::on_message(const std::string& text) {
  studies::StreamEvent ev;
  std::string error;
  if (!studies::parse_stream_event(text, ev, error)) {
    notice("WebSocket: skipping an unreadable message: " + error);
    return true;
  }
  const auto& o = ev.json;
  if (ev.type == "tick") {
    got_tick_ = true;
    const auto* data = o.if_contains("data"); // an object: parse_stream_event checked it
    if (auto it = starts_.find(tick_type_of(data->as_object())); it != starts_.end()) {
      TypeStart& t = it->second;
      const auto* unix_time = data->as_object().if_contains("unix_time");
      if (!t.got_tick && unix_time && unix_time->is_number() &&
          t.skip.skip(unix_time->to_number<std::int64_t>()))
        return true; // applied from the replay already
      t.got_tick = true;
    }
    events_.tick(ev, studies::tick_event_line(ev.contract_id, ev.timestamp, *data));
  } else if (ev.type == "multi_subscribed" || ev.type == "subscribed") {
    const auto* data = obj(o, "data");
    if (!data) return true;
    if (const auto* subs = data->if_contains("subscriptions"); subs && subs->is_array()) {
      for (const auto& s : subs->get_array())
        if (s.is_object())
          requests_[str(s.get_object(), "request_id")] = str(s.get_object(), "tick_type");
    } else {
      requests_[str(*data, "request_id")] = str(*data, "tick_type");
    }
    if (const auto* info = obj(*data, "contract_info"))
      if (const auto* t = info->if_contains("min_tick"); t && t->is_number())
        events_.min_tick(t->to_number<double>());
  } else if (ev.type == "error") {
    const auto* err = obj(o, "error");
    const std::string code = err ? str(*err, "code") : "";
    const std::string message = err ? str(*err, "message") : "";
    notice("WebSocket: server error " + code + ": " + message);
    // A refused subscription request (it carries our id, no request_id).
    if (o.contains("id") && !o.contains("request_id")) {
      if (code == "RATE_LIMIT_EXCEEDED" || code == "TWS_DISCONNECTED" ||
          code == "CONNECTION_ERROR" || code == "INTERNAL_ERROR") {
        retry_ = true; // anew after a backoff delay
        return true;
      }
      events_.fatal(kExitCannotConnect,
                    "the server refused the subscription: " + code + ": " + message);
      return false;
    }
  } else if (ev.type == "complete") {
    const std::string rid = str(o, "request_id");
    const auto* data = obj(o, "data");
    const std::string reason = data ? str(*data, "reason") : "";
    auto it = requests_.find(rid);
    const std::string type = it != requests_.end() ? it->second : "";
    if (it != requests_.end()) requests_.erase(it);
    notice("WebSocket: the " + type + " subscription completed (" + reason + ")");
    if (reason == "stopped") {
      if (requests_.empty()) {
        events_.ended();
        return false;
      }
    } else if (!type.empty()) {
      out_.push_back(subscribe_message({type}));
    }
  } else if (ev.type == "info") {
    std::string message;
    if (const auto* info = obj(o, "info")) {
      message = str(*info, "message");
      if (const auto* lost = info->if_contains("ticks_lost"); lost && lost->is_number())
        message += " (gap: " + std::to_string(lost->to_number<std::int64_t>()) + " ticks lost)";
    }
    notice("WebSocket: server notice: " + message);
  }
  return true;
}

} // namespace studies_cli

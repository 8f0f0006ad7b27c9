#include "http/http_session.hpp"

#include "http/api_key_auth.hpp"
#include "http/contract_endpoints.hpp"
#include "http/delta_session.hpp"
#include "http/endpoint_json.hpp"
#include "http/forward_session.hpp"
#include "http/history_params.hpp"
#include "http/history_session.hpp"
#include "http/metrics_endpoint.hpp"
#include "http/replay_session.hpp"
#include "http/response.hpp"
#include "http/router.hpp"
#include "http/scaleout.hpp"
#include "http/server_log.hpp"
#include "http/sse_session.hpp"
#include "http/stream_params.hpp"
#include "http/tracked_endpoints.hpp"
#include "http/ws_session.hpp"
#include "ws/schema_document.hpp"
#include "www/web_assets.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <spdlog/spdlog.h>

#include <cctype>
#include <chrono>
#include <optional>
#include <variant>

namespace http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;

namespace {

/// Requests have no meaningful body: anything bigger is a mistake or abuse.
constexpr std::uint64_t kBodyLimit = 64 * 1024;
constexpr std::uint32_t kHeaderLimit = 16 * 1024;
/// Time to receive a whole request, and to keep an idle connection.
constexpr auto kReadTimeout = 30s;
constexpr auto kWriteTimeout = 30s;

class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
  HttpSession(asio::ip::tcp::socket socket, std::shared_ptr<ServerState> state)
      : stream_(std::move(socket)), state_(std::move(state)) {
    boost::system::error_code ec;
    const auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) {
      ip_ = ep.address().to_string();
      remote_ = ip_ + ":" + std::to_string(ep.port());
    }
  }

  void run() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
  }

private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    parser_->header_limit(kHeaderLimit);
    stream_.expires_after(kReadTimeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        self->on_read(ec);
                      });
  }

  void on_read(boost::system::error_code ec) {
    if (ec == beast::error::timeout && parser_->got_some()) {
      // A request that trickles in (slowloris) gets no more than the timeout.
      spdlog::info("{}: request incomplete after {} s, closing", remote_, kReadTimeout.count());
      return close();
    }
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted)
      return close();
    received_ = std::chrono::steady_clock::now();
    if (ec) {
      // Malformed or oversized: answer once, then close.
      method_ = "-";
      path_ = "-";
      query_.clear();
      origin_.reset();
      if (ec == bhttp::error::header_limit)
        return respond(
            error_response(431, "INVALID_REQUEST", "Request headers too large",
                           "At most " + std::to_string(kHeaderLimit / 1024) + " KiB of headers"),
            false);
      const bool too_big = ec == bhttp::error::body_limit;
      respond(error_response(too_big ? 413 : 400, "INVALID_REQUEST",
                             too_big ? "Request too large" : "Malformed HTTP request",
                             ec.message()),
              false);
      return;
    }
    handle(parser_->release());
  }

  void handle(bhttp::request<bhttp::string_body> req) {
    method_ = std::string(req.method_string());
    origin_.reset();
    if (auto it = req.find(bhttp::field::origin); it != req.end())
      origin_ = std::string(it->value());
    keep_alive_ = req.keep_alive();
    const std::string_view target(req.target().data(), req.target().size());
    Route route = route_request(method_, target);
    path_ = route.path;
    query_ = redact_api_key("?" + route.query).substr(1);

    if (route.endpoint == Endpoint::preflight) {
      Response r{204, {}, {}, state_->cors.preflight_headers()};
      r.headers.emplace_back("Allow", route.allow);
      return respond(std::move(r));
    }

    const bool ws_upgrade =
        (route.endpoint == Endpoint::ws_stream || route.endpoint == Endpoint::ws_control) &&
        beast::websocket::is_upgrade(req);
    // Without the key nothing is revealed, not even which paths exist;
    // health and readiness stay open for load balancers, and the embedded
    // web assets (the same in every installation; the dashboard's page must
    // load to ask for the key); /metrics too with --metrics-public.
    bool authorized = true;
    const bool public_metrics =
        route.endpoint == Endpoint::metrics && state_->config.metrics_public;
    if (route.endpoint != Endpoint::health && route.endpoint != Endpoint::ready &&
        !public_metrics && route.endpoint != Endpoint::web_asset) {
      std::optional<std::string_view> auth;
      if (auto it = req.find(bhttp::field::authorization); it != req.end())
        auth = std::string_view(it->value().data(), it->value().size());
      authorized = api_key_accepted(state_->config.api_key, auth, route.query);
      // A browser cannot read a 401 on an upgrade: the WebSocket session
      // refuses after the handshake (AUTH_REQUIRED, close 4001).
      if (!authorized && !ws_upgrade) {
        Response r =
            error_response(401, "AUTH_REQUIRED", "Missing or wrong API key",
                           "Send 'Authorization: Bearer <key>' or the api_key query parameter");
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
        return respond(std::move(r));
      }
    }

    // A contract spec in the path ("AAPL", "ES:FUT:CME:USD:202703") is
    // resolved to its id first; the endpoint then runs as for the id.
    if (takes_contract_id(route.endpoint) && is_contract_spec(route.contract_segment)) {
      const std::string segment = route.contract_segment;
      return resolve_contract_segment(
          state_, segment, stream_.get_executor(),
          [self = shared_from_this(), req = std::move(req), route = std::move(route), authorized,
           ws_upgrade](int con_id, std::optional<contracts::LookupError> err) mutable {
            if (err && !ws_upgrade) return self->respond(lookup_error_response(*err));
            if (err) {
              // A browser cannot read an HTTP error on an upgrade: the
              // WebSocket session answers with an error message instead.
              return self->start_websocket(
                  std::move(req), route, authorized,
                  ApiError{err->status, err->code, err->message, err->details});
            }
            route.contract_segment = std::to_string(con_id);
            self->dispatch(std::move(req), route, authorized, ws_upgrade);
          });
    }
    dispatch(std::move(req), route, authorized, ws_upgrade);
  }

  static bool takes_contract_id(Endpoint e) {
    switch (e) {
    case Endpoint::stream:
    case Endpoint::stop_contract:
    case Endpoint::ws_stream:
    case Endpoint::history:
    case Endpoint::history_summary:
    case Endpoint::replay:
    case Endpoint::study_delta:
    case Endpoint::track:
    case Endpoint::untrack: return true;
    default: return false;
    }
  }

  void dispatch(bhttp::request<bhttp::string_body> req, const Route& route, bool authorized,
                bool ws_upgrade) {
    switch (route.endpoint) {
    case Endpoint::bad_target:
      return respond(error_response(400, "INVALID_REQUEST", "Malformed request target",
                                    "Use an origin-form path such as /stream/265598"));
    case Endpoint::not_found:
      return respond(error_response(404, "NOT_FOUND", "No endpoint at " + route.path,
                                    "GET / lists the endpoints"));
    case Endpoint::root: return respond(ok(root_json(state_->config)));
    case Endpoint::web_asset: {
      const www::WebAsset* asset = www::find_web_asset(route.path);
      return respond(Response{200, std::string(asset->body), std::string(asset->content_type), {}});
    }
    case Endpoint::metrics:
      if (!state_->config.metrics)
        return respond(error_response(404, "NOT_FOUND", "No endpoint at " + route.path,
                                      "Metrics are off (IB_STREAM_METRICS)"));
      return answer_metrics(state_, stream_.get_executor(), answer_here());
    case Endpoint::stream_info: return respond(ok(stream_info_json(state_->config)));
    case Endpoint::ws_stats:
      return respond(ok(ws_stats_json(state_->ws_stats.snapshot(), state_->ws_connections.counts(),
                                      state_->ws_limits)));
    case Endpoint::ws_schemas: {
      static const std::string schemas = ws::schemas_document();
      return respond(ok(schemas));
    }
    case Endpoint::ws_stream:
    case Endpoint::ws_control:
      if (!ws_upgrade) {
        Response r =
            error_response(426, "UPGRADE_REQUIRED", route.path + " is a WebSocket endpoint",
                           "Connect with a WebSocket client (ws://host" + route.path + ")");
        r.headers.emplace_back("Upgrade", "websocket");
        return respond(std::move(r));
      }
      return start_websocket(std::move(req), route, authorized);
    case Endpoint::health:
      return with_snapshot([this](const stream::HubSnapshot& s) {
        const auto up =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - state_->started);
        const auto rec = state_->recorder ? std::optional(state_->recorder->health())
                                          : std::optional<record::RecorderHealth>();
        const auto bus = state_->scaleout ? state_->scaleout->health() : std::nullopt;
        respond(ok(health_json(s, state_->config, up.count(), rec ? &*rec : nullptr,
                               bus ? &*bus : nullptr)));
      });
    case Endpoint::ready:
      return with_snapshot([this](const stream::HubSnapshot& s) {
        bool ready = false;
        std::string body = ready_json(s, state_->draining, ready);
        respond(Response{ready ? 200 : 503, std::move(body), "application/json", {}});
      });
    case Endpoint::stream_active:
      return with_snapshot([this](const stream::HubSnapshot& s) { respond(ok(active_json(s))); });
    case Endpoint::stop_contract: {
      const auto con_id = parse_contract_id(route.contract_segment);
      if (!con_id)
        return respond(error_response(400, "INVALID_PARAMETER",
                                      "Invalid contract_id '" + route.contract_segment +
                                          "': must be a positive integer up to 2147483647",
                                      ""));
      return stop(con_id);
    }
    case Endpoint::stop_all: return stop(std::nullopt);
    case Endpoint::bad_method: {
      Response r = error_response(405, "METHOD_NOT_ALLOWED",
                                  "Method " + method_ + " is not allowed on " + route.path,
                                  "Allowed: " + route.allow);
      r.headers.emplace_back("Allow", route.allow);
      return respond(std::move(r));
    }
    case Endpoint::stream: return start_stream(req, route);
    case Endpoint::study_delta: return start_delta(route);
    case Endpoint::history:
    case Endpoint::history_summary:
    case Endpoint::replay: return start_record(route);
    case Endpoint::tracked:
      if (state_->scaleout && state_->scaleout->is_edge()) // the publisher records
        return start_forward_session(std::move(stream_), state_, "/tracked", origin_.value_or(""),
                                     "GET /tracked " + remote_);
      return answer_tracked(state_, stream_.get_executor(), answer_here());
    case Endpoint::track:
      return answer_track(state_, route.contract_segment, route.query, stream_.get_executor(),
                          answer_here());
    case Endpoint::untrack:
      return answer_untrack(state_, route.contract_segment, stream_.get_executor(), answer_here());
    case Endpoint::contract_search:
      return answer_contract_search(state_, route.query, stream_.get_executor(), answer_here());
    case Endpoint::contract:
      return answer_contract_details(state_, route.contract_segment, stream_.get_executor(),
                                     answer_here());
    case Endpoint::contract_status:
      return answer_contract_status(state_, route.contract_segment, stream_.get_executor(),
                                    answer_here());
    default: return respond(error_response(500, "INTERNAL_ERROR", "Unrouted request", ""));
    }
  }

  /// Answers this request (on our loop) with what an endpoint gives.
  Answer answer_here() {
    return [self = shared_from_this()](Response r) { self->respond(std::move(r)); };
  }

  static Response ok(std::string body) {
    return Response{200, std::move(body), "application/json", {}};
  }

  /// Runs `then` on our event loop with a fresh Hub snapshot.
  template <class F> void with_snapshot(F then) {
    state_->hub->snapshot([self = shared_from_this(), then](stream::HubSnapshot s) mutable {
      asio::post(self->stream_.get_executor(),
                 [self, then = std::move(then), s = std::move(s)]() mutable { then(s); });
    });
  }

  void stop(std::optional<int> con_id) {
    state_->hub->stop(con_id, [self = shared_from_this(),
                               con_id](std::vector<stream::StoppedStream> stopped) mutable {
      asio::post(self->stream_.get_executor(), [self, con_id, stopped = std::move(stopped)] {
        if (con_id && stopped.empty())
          return self->respond(error_response(
              404, "NOT_FOUND", "No active stream for contract " + std::to_string(*con_id),
              "GET /stream/active lists the active streams"));
        self->respond(ok(stopped_json(stopped, con_id)));
      });
    });
  }

  void start_stream(const bhttp::request<bhttp::string_body>& req, const Route& route) {
    std::optional<std::string_view> last_event_id;
    if (auto it = req.find("Last-Event-ID"); it != req.end())
      last_event_id = std::string_view(it->value().data(), it->value().size());
    auto parsed = parse_stream_request(route.contract_segment, route.tick_type, route.query,
                                       state_->config.stream_timeout, last_event_id);
    if (auto* err = std::get_if<ApiError>(&parsed))
      return respond(error_response(err->status, err->code, err->message, err->details));
    SseSession::Request sse{
        std::get<StreamRequest>(parsed), origin_, remote_, method_, path_, query_, received_};
    // The SSE session owns the socket from here; this session ends.
    std::make_shared<SseSession>(std::move(stream_), state_, std::move(sse))->start();
  }

  /// GET /studies/{contract}/delta: validated here, then a DeltaSession
  /// takes the socket.
  void start_delta(const Route& route) {
    auto parsed =
        parse_delta_request(route.contract_segment, route.query, state_->config.stream_timeout);
    if (auto* err = std::get_if<ApiError>(&parsed))
      return respond(error_response(err->status, err->code, err->message, err->details));
    DeltaSession::Request delta{
        std::get<DeltaRequest>(parsed), origin_, remote_, method_, path_, query_, received_};
    std::make_shared<DeltaSession>(std::move(stream_), state_, std::move(delta))->start();
  }

  /// History and replay: validated here, answered from the record on the
  /// HistoryWorkers (the summary on this connection, the others by a
  /// RecordSession that takes the socket).
  void start_record(const Route& route) {
    using namespace std::chrono;
    const auto now_ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    std::variant<HistoryRequest, ReplayRequest, int> parsed;
    if (route.endpoint == Endpoint::history) {
      auto r = parse_history_request(route.contract_segment, *route.tick_type, route.query, now_ms);
      if (auto* err = std::get_if<ApiError>(&r))
        return respond(error_response(err->status, err->code, err->message, err->details));
      parsed = std::get<HistoryRequest>(std::move(r));
    } else if (route.endpoint == Endpoint::replay) {
      auto r = parse_replay_request(route.contract_segment, route.query, now_ms);
      if (auto* err = std::get_if<ApiError>(&r))
        return respond(error_response(err->status, err->code, err->message, err->details));
      parsed = std::get<ReplayRequest>(std::move(r));
    } else {
      const auto con_id = parse_contract_id(route.contract_segment);
      if (!con_id)
        return respond(error_response(400, "INVALID_PARAMETER",
                                      "Invalid contract_id '" + route.contract_segment +
                                          "': must be a positive integer up to 2147483647",
                                      ""));
      parsed = *con_id;
    }
    if (state_->scaleout && state_->scaleout->is_edge() && route.endpoint != Endpoint::replay) {
      // An edge keeps no record: the publisher answers, through NATS.
      std::string query;
      for (std::size_t at = 0; at <= route.query.size();) {
        auto end = route.query.find('&', at);
        if (end == std::string::npos) end = route.query.size();
        const auto item = std::string_view(route.query).substr(at, end - at);
        if (!item.empty() && !item.starts_with("api_key=")) // the publisher uses its own
          query += (query.empty() ? "" : "&") + std::string(item);
        at = end + 1;
      }
      std::string target;
      for (const unsigned char ch : route.path) { // encoded again (the route's is decoded)
        if (std::isalnum(ch) || std::string_view("-._~/:@!$'()*+,;=").find(static_cast<char>(ch)) !=
                                    std::string_view::npos) {
          target += static_cast<char>(ch);
        } else {
          static constexpr char kHex[] = "0123456789ABCDEF";
          target += '%';
          target += kHex[ch >> 4];
          target += kHex[ch & 15];
        }
      }
      if (!query.empty()) target += "?" + query;
      std::string line = "GET " + path_ + (query_.empty() ? "" : "?" + query_) + " " + remote_;
      return start_forward_session(std::move(stream_), state_, std::move(target),
                                   origin_.value_or(""), std::move(line));
    }
    if (!state_->store)
      return respond(error_response(503, "UNAVAILABLE", "No record: the server runs without one"));
    if (!state_->history_workers.admit()) {
      Response r = error_response(
          429, "RATE_LIMIT_EXCEEDED", "Too many history and replay requests at once",
          "At most " + std::to_string(state_->history_workers.max_requests()) + "; retry shortly");
      r.headers.emplace_back("Retry-After", "1");
      return respond(std::move(r));
    }
    if (auto* con_id = std::get_if<int>(&parsed)) {
      return start_history_summary(state_, *con_id, stream_.get_executor(),
                                   [self = shared_from_this()](Response r) {
                                     self->state_->history_workers.release();
                                     self->respond(std::move(r));
                                   });
    }
    RecordSession::Request rec{origin_, remote_, method_, path_, query_, received_};
    // The record session owns the socket from here; this session ends.
    if (auto* h = std::get_if<HistoryRequest>(&parsed))
      start_history_session(std::move(stream_), state_, std::move(rec), std::move(*h));
    else
      start_replay_session(std::move(stream_), state_, std::move(rec),
                           std::get<ReplayRequest>(std::move(parsed)));
  }

  void start_websocket(bhttp::request<bhttp::string_body> req, const Route& route, bool authorized,
                       std::optional<ApiError> contract_error = std::nullopt) {
    // Browsers send Origin on every WebSocket handshake and a page of any
    // site may try one: the CORS origins decide here too.
    if (!state_->cors.allows(origin_))
      return respond(error_response(403, "FORBIDDEN",
                                    "Origin '" + origin_.value_or("") + "' is not allowed",
                                    "Add it to IB_STREAM_CORS_ORIGINS"),
                     false);
    WsUpgrade up;
    up.authorized = authorized;
    up.ip = ip_;
    up.remote = remote_;
    up.path = path_;
    up.query = query_;
    up.received = received_;
    if (route.endpoint == Endpoint::ws_control) {
      up.endpoint = WsEndpoint::control;
    } else if (route.tick_type == "multi") {
      up.endpoint = WsEndpoint::multi;
      if (contract_error) up.path_error = std::move(*contract_error);
      else if (!parse_contract_id(route.contract_segment))
        up.path_error = ApiError{400, "INVALID_PARAMETER",
                                 "Invalid contract_id '" + route.contract_segment +
                                     "': must be a positive integer up to 2147483647",
                                 ""};
    } else if (contract_error) {
      up.endpoint = WsEndpoint::stream;
      up.path_error = std::move(*contract_error);
    } else {
      up.endpoint = WsEndpoint::stream;
      auto parsed = parse_stream_request(route.contract_segment, route.tick_type, route.query,
                                         state_->config.stream_timeout);
      if (auto* err = std::get_if<ApiError>(&parsed)) up.path_error = std::move(*err);
      else up.stream = std::get<StreamRequest>(parsed);
    }
    // The WebSocket session owns the socket from here; this session ends.
    start_ws_session(std::move(stream_), std::move(buffer_), std::move(req), state_, std::move(up));
  }

  void respond(Response r, bool keep_alive = true) {
    auto cors = state_->cors.headers(origin_);
    r.headers.insert(r.headers.begin(), cors.begin(), cors.end());
    keep_alive = keep_alive && keep_alive_;
    std::string_view note;
    if (r.status >= 400) note = error_code_of(r.body);
    log_access(
        {method_, path_, query_, r.status,
         std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - received_)
             .count(),
         remote_, note});
    out_ = serialize_response(r, keep_alive);
    stream_.expires_after(kWriteTimeout);
    asio::async_write(
        stream_, asio::buffer(out_),
        [self = shared_from_this(), keep_alive](boost::system::error_code ec, std::size_t) {
          if (ec || !keep_alive) return self->close();
          self->do_read();
        });
  }

  /// The `code` of an error body, for the access log.
  static std::string_view error_code_of(std::string_view body) {
    constexpr std::string_view kKey = "{\"error\":{\"code\":\"";
    if (body.rfind(kKey, 0) != 0) return {};
    const auto end = body.find('"', kKey.size());
    return end == std::string_view::npos ? std::string_view{}
                                         : body.substr(kKey.size(), end - kKey.size());
  }

  void close() {
    boost::system::error_code ignored;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<ServerState> state_;
  std::string remote_ = "-";
  std::string ip_ = "-";
  std::string out_;
  // The request being answered.
  std::chrono::steady_clock::time_point received_;
  std::string method_, path_, query_;
  std::optional<std::string> origin_;
  bool keep_alive_ = true;
};

} // namespace

void start_http_session(asio::ip::tcp::socket socket, std::shared_ptr<ServerState> state) {
  std::make_shared<HttpSession>(std::move(socket), std::move(state))->run();
}

} // namespace http

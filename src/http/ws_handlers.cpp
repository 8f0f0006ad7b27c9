// WsConnection, message handling: the client messages of api.md §5,
// validated against their JSON Schemas, dispatched, answered (see
// ws_connection.hpp for the other roles).
#include "http/contract_endpoints.hpp"
#include "http/endpoint_json.hpp"
#include "http/ws_connection.hpp"
#include "stream/json_text.hpp"
#include "stream/tick_json.hpp"
#include "ws/message_validator.hpp"
#include "ws/ws_messages.hpp"

#include <boost/asio/post.hpp>

namespace http {
namespace asio = boost::asio;

namespace {

std::string_view endpoint_name(WsEndpoint e) {
  switch (e) {
  case WsEndpoint::stream: return "/ws/stream/{contract_id}/{tick_type}";
  case WsEndpoint::multi: return "/ws/stream/{contract_id}/multi";
  case WsEndpoint::control: return "/ws/control";
  }
  return "";
}

} // namespace

void WsConnection::handle_text(std::string_view text) {
  auto result = ws::MessageValidator::shared().validate(text);
  if (const auto* err = std::get_if<ws::ValidationError>(&result)) {
    state_->ws_stats.invalid_message();
    send(ws::invalid_message_error(stream::iso_now(), *err));
    // A client that keeps sending garbage is broken: stop answering it.
    if (++invalid_in_a_row_ >= kMaxInvalidInARow)
      close_with(4000, "too many invalid messages in a row");
    return;
  }
  invalid_in_a_row_ = 0;
  std::visit([this](const auto& m) { handle(m); }, std::get<ws::ClientMessage>(result));
}

bool WsConnection::accepts_subscribe(const std::string& id) {
  if (upgrade_.endpoint != WsEndpoint::stream) return true;
  send(ws::error_message(stream::iso_now(), {id, std::nullopt}, "INVALID_MESSAGE",
                         "subscribe and multi_subscribe are accepted on "
                         "/ws/stream/{contract_id}/multi and /ws/control, not on " +
                             std::string(endpoint_name(upgrade_.endpoint)),
                         "This connection streams the contract and tick type of its path"));
  return false;
}

bool WsConnection::since_of(const std::string& id, const std::optional<std::string>& since,
                            std::optional<std::int64_t>& out) {
  if (!since) return true;
  if (auto err = parse_since(*since, out)) {
    send(ws::error_message(stream::iso_now(), {id, std::nullopt}, "INVALID_MESSAGE",
                           "data.params.since: " + err->message, err->details));
    return false;
  }
  return true;
}

void WsConnection::handle(const ws::Subscribe& m) {
  std::optional<std::int64_t> since;
  if (!accepts_subscribe(m.id) || !since_of(m.id, m.since, since)) return;
  with_contract(m.id, m.contract_id, m.contract, [m, since](WsConnection& self, int con_id) {
    self.open_subscriptions(m.id, false, con_id, {m.tick_type}, m.limit, m.timeout, since);
  });
}

void WsConnection::handle(const ws::MultiSubscribe& m) {
  std::optional<std::int64_t> since;
  if (!accepts_subscribe(m.id) || !since_of(m.id, m.since, since)) return;
  with_contract(m.id, m.contract_id, m.contract, [m, since](WsConnection& self, int con_id) {
    self.open_subscriptions(m.id, true, con_id, m.tick_types, m.limit, m.timeout, since);
  });
}

void WsConnection::with_contract(const std::string& id, int contract_id,
                                 const std::optional<std::string>& contract,
                                 std::function<void(WsConnection&, int)> then) {
  if (!contract) return then(*this, contract_id);
  resolve_contract_segment(
      state_, *contract, executor_,
      [self = shared_from_this(), id,
       then = std::move(then)](int con_id, std::optional<contracts::LookupError> err) {
        if (self->phase_ != Phase::open) return;
        if (!err) return then(*self, con_id);
        // A malformed spec is a bad message; the others keep their codes
        // (CONTRACT_NOT_FOUND, AMBIGUOUS_CONTRACT, RATE_LIMIT_EXCEEDED...).
        const bool malformed = err->status == 400 && err->code == "INVALID_PARAMETER";
        self->send(ws::error_message(
            stream::iso_now(), {id, std::nullopt},
            malformed ? "INVALID_MESSAGE" : (err->status == 503 ? "CONNECTION_ERROR" : err->code),
            malformed ? "data.contract_id: " + err->message : err->message, err->details));
      });
}

void WsConnection::handle(const ws::Unsubscribe& m) {
  auto it = subs_.find(m.request_id);
  if (it == subs_.end() || !it->second->active()) {
    send(ws::error_message(stream::iso_now(), {m.id, std::nullopt}, "INVALID_MESSAGE",
                           "No subscription with request_id '" +
                               stream::truncate_utf8(m.request_id, 128) + "' on this connection",
                           "Use a request_id from `subscribed` or `multi_subscribed`"));
    return;
  }
  auto sub = it->second;
  sub->timeout_timer().cancel();
  leave_hub(*sub);
  forget(sub);
  send(ws::unsubscribed_message(stream::iso_now(), m.id, sub->request_id()));
  if (sub->params().from_path) close_with(1000, "unsubscribed");
}

void WsConnection::handle(const ws::UnsubscribeAll& m) {
  // Subscriptions still being opened are not counted: they are answered
  // (`subscribed`) as usual, after this reply.
  std::vector<std::shared_ptr<WsSubscription>> active;
  for (const auto& [rid, sub] : subs_)
    if (sub->active()) active.push_back(sub);
  bool path = false;
  for (const auto& sub : active) {
    sub->timeout_timer().cancel();
    leave_hub(*sub);
    forget(sub);
    path = path || sub->params().from_path;
  }
  send(ws::unsubscribed_all_message(stream::iso_now(), m.id, active.size()));
  if (path) close_with(1000, "unsubscribed");
}

void WsConnection::handle(const ws::Ping& m) {
  send(ws::pong_message(stream::iso_now(), m.id, m.timestamp));
}

void WsConnection::handle(const ws::GetStats& m) {
  if (upgrade_.endpoint != WsEndpoint::control) {
    send(ws::error_message(stream::iso_now(), {m.id, std::nullopt}, "INVALID_MESSAGE",
                           "get_stats is accepted on /ws/control only",
                           "Connect to /ws/control, or GET /ws/stats"));
    return;
  }
  send(ws::stats_message(stream::iso_now(), m.id,
                         ws_stats_json(state_->ws_stats.snapshot(), state_->ws_connections.counts(),
                                       state_->ws_limits)));
}

void WsConnection::handle(const ws::ListStreams& m) {
  if (upgrade_.endpoint != WsEndpoint::control) {
    send(ws::error_message(stream::iso_now(), {m.id, std::nullopt}, "INVALID_MESSAGE",
                           "list_streams is accepted on /ws/control only",
                           "Connect to /ws/control, or GET /stream/active"));
    return;
  }
  state_->hub->snapshot([self = shared_from_this(), id = m.id](stream::HubSnapshot s) {
    asio::post(self->executor_, [self, id, s = std::move(s)] {
      self->send(ws::streams_message(stream::iso_now(), id, active_json(s)));
    });
  });
}

} // namespace http

#include "bus/messages.hpp"

#include "contracts/contract_cache.hpp"
#include "stream/json_writer.hpp"
#include "stream/sse_events.hpp"
#include "tws/error_codes.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <limits>
#include <stdexcept>

namespace json = boost::json;

namespace bus {

namespace {

std::optional<json::object> object_of(std::string_view text) {
  json::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

std::string str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

/// An integer member within [lo, hi], else nullopt.
std::optional<std::int64_t> integer(const json::object& o, std::string_view key, std::int64_t lo,
                                    std::int64_t hi) {
  const auto* v = o.if_contains(key);
  if (!v) return std::nullopt;
  std::int64_t n = 0;
  if (v->is_int64()) n = v->get_int64();
  else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(hi))
    n = static_cast<std::int64_t>(v->get_uint64());
  else return std::nullopt;
  if (n < lo || n > hi) return std::nullopt;
  return n;
}

std::optional<std::uint64_t> unsigned_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
  return std::nullopt;
}

bool boolean(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

constexpr std::int64_t kMaxInt = std::numeric_limits<int>::max();

} // namespace

std::string stream_label(const StreamKey& k) {
  return std::to_string(k.first) + ":" + std::string(tws::to_string(k.second));
}

std::optional<StreamKey> parse_stream_label(std::string_view s) {
  const auto colon = s.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  int id = 0;
  const auto* end = s.data() + colon;
  const auto [p, ec] = std::from_chars(s.data(), end, id);
  if (ec != std::errc() || p != end || id < 1) return std::nullopt;
  const auto type = tws::parse_tick_type(s.substr(colon + 1));
  if (!type) return std::nullopt;
  return StreamKey{id, *type};
}

std::string encode(const OpenRequestMsg& m) {
  std::string out;
  stream::JsonWriter w(out);
  w.begin_object()
      .member("con_id", m.con_id)
      .member("tick_type", tws::to_string(m.tick_type))
      .member("edge", m.edge)
      .end_object()
      .flush();
  return out;
}

std::variant<OpenRequestMsg, std::string> parse_open_request(std::string_view text) {
  const auto o = object_of(text);
  if (!o) return std::string("not a JSON object");
  const auto id = integer(*o, "con_id", 1, kMaxInt);
  if (!id) return std::string("con_id: expected an integer 1..2147483647");
  const auto type = tws::parse_tick_type(str(*o, "tick_type"));
  if (!type) return std::string("tick_type: expected Last, AllLast, BidAsk or MidPoint");
  return OpenRequestMsg{static_cast<int>(*id), *type, str(*o, "edge")};
}

std::string encode_opened(std::uint64_t last_seq, const stream::ContractInfo& c) {
  std::string out;
  stream::JsonWriter w(out);
  w.begin_object()
      .member("ok", true)
      .member("last_seq", last_seq)
      .member("con_id", c.con_id)
      .key("contract");
  stream::write_contract(w, c); // the info event's contract object
  w.end_object().flush();
  return out;
}

std::string encode_open_error(const stream::OpenError& e) {
  std::string out;
  stream::JsonWriter w(out);
  w.begin_object()
      .member("ok", false)
      .key("error")
      .begin_object()
      .member("status", e.status)
      .member("code", e.code)
      .member("message", e.message)
      .member("details", e.details)
      .member("retry_after", e.retry_after_s)
      .end_object()
      .end_object()
      .flush();
  return out;
}

std::optional<std::variant<stream::RemoteOpened, stream::OpenError>>
parse_open_reply(std::string_view text) {
  const auto o = object_of(text);
  if (!o) return std::nullopt;
  if (boolean(*o, "ok")) {
    const auto last = unsigned_of(*o, "last_seq");
    const auto* c = o->if_contains("contract");
    if (!last || !c || !c->is_object()) return std::nullopt;
    const auto& co = c->get_object();
    stream::RemoteOpened r;
    r.last_seq = *last;
    auto& k = r.details.contract;
    k.con_id = static_cast<int>(integer(*o, "con_id", 0, kMaxInt).value_or(0));
    k.symbol = str(co, "symbol");
    k.sec_type = str(co, "sec_type");
    k.exchange = str(co, "exchange");
    k.primary_exchange = str(co, "primary_exchange");
    k.currency = str(co, "currency");
    k.local_symbol = str(co, "local_symbol");
    k.trading_class = str(co, "trading_class");
    if (const auto* t = co.if_contains("min_tick"); t && t->is_number())
      r.details.min_tick = t->to_number<double>();
    return r;
  }
  const auto* e = o->if_contains("error");
  if (!e || !e->is_object()) return std::nullopt;
  const auto& eo = e->get_object();
  const auto status = integer(eo, "status", 100, 599);
  if (!status) return std::nullopt;
  return stream::OpenError{static_cast<int>(*status), str(eo, "code"), str(eo, "message"),
                           str(eo, "details"),
                           static_cast<int>(integer(eo, "retry_after", 0, 86400).value_or(0))};
}

std::string encode_event(const stream::RemoteEvent& e) {
  std::string out;
  stream::JsonWriter w(out);
  w.begin_object()
      .member("kind", e.kind == stream::RemoteEvent::Kind::ended ? "ended" : "notice")
      .member("seq", e.seq)
      .member("error", e.error)
      .member("code", e.code)
      .member("message", e.message)
      .member("details", e.details)
      .member("next_open", e.next_open)
      .member("period", e.period)
      .end_object()
      .flush();
  return out;
}

std::optional<stream::RemoteEvent> parse_event(std::string_view text) {
  const auto o = object_of(text);
  if (!o) return std::nullopt;
  stream::RemoteEvent e;
  const auto kind = str(*o, "kind");
  if (kind == "ended") e.kind = stream::RemoteEvent::Kind::ended;
  else if (kind == "notice") e.kind = stream::RemoteEvent::Kind::notice;
  else return std::nullopt;
  const auto seq = unsigned_of(*o, "seq");
  e.code = str(*o, "code");
  if (!seq || e.code.empty()) return std::nullopt;
  e.seq = *seq;
  e.error = boolean(*o, "error");
  e.message = str(*o, "message");
  e.details = str(*o, "details");
  e.next_open = str(*o, "next_open");
  e.period = str(*o, "period");
  return e;
}

std::string encode(const KeepMsg& m) {
  std::string out;
  stream::JsonWriter w(out);
  w.begin_object().member("edge", m.edge).key("streams").begin_array();
  for (const auto& k : m.streams) w.string(stream_label(k));
  w.end_array().end_object().flush();
  return out;
}

std::optional<KeepMsg> parse_keep(std::string_view text) {
  const auto o = object_of(text);
  if (!o) return std::nullopt;
  KeepMsg m;
  m.edge = str(*o, "edge");
  const auto* a = o->if_contains("streams");
  if (m.edge.empty() || !a || !a->is_array()) return std::nullopt;
  for (const auto& v : a->get_array()) {
    if (!v.is_string()) return std::nullopt;
    auto k = parse_stream_label(v.get_string());
    if (!k) return std::nullopt;
    m.streams.push_back(*k);
  }
  return m;
}

std::string encode_status(const std::string& publisher, const stream::HubSnapshot::Tws& t) {
  std::string out;
  stream::JsonWriter w(out);
  w.begin_object()
      .member("publisher", publisher)
      .key("tws")
      .begin_object()
      .member("connected", t.connected)
      .member("host", t.host)
      .member("port", static_cast<int>(t.port))
      .member("client_id", t.client_id)
      .member("server_version", t.server_version)
      .member("connected_since", t.connected_since)
      .end_object()
      .end_object()
      .flush();
  return out;
}

bool parse_status(std::string_view text, stream::RemoteStatus& out) {
  const auto o = object_of(text);
  if (!o) return false;
  const auto* t = o->if_contains("tws");
  if (!t || !t->is_object()) return false;
  const auto& to = t->get_object();
  out.publisher = str(*o, "publisher");
  out.tws_connected = boolean(to, "connected");
  out.tws_host = str(to, "host");
  out.tws_port = static_cast<int>(integer(to, "port", 0, 65535).value_or(0));
  out.tws_client_id = static_cast<int>(integer(to, "client_id", -kMaxInt, kMaxInt).value_or(0));
  out.tws_server_version = static_cast<int>(integer(to, "server_version", 0, kMaxInt).value_or(0));
  out.tws_connected_since = str(to, "connected_since");
  return true;
}

namespace {

json::object contract_query_json(const tws::Contract& c) {
  return json::object{{"con_id", c.con_id},
                      {"symbol", c.symbol},
                      {"sec_type", c.sec_type},
                      {"last_trade_date_or_contract_month", c.last_trade_date_or_contract_month},
                      {"multiplier", c.multiplier},
                      {"exchange", c.exchange},
                      {"primary_exchange", c.primary_exchange},
                      {"currency", c.currency},
                      {"local_symbol", c.local_symbol},
                      {"trading_class", c.trading_class},
                      {"include_expired", c.include_expired}};
}

json::object lookup_reply_json(std::error_code ec, const tws::ErrorMessage* e) {
  json::object o;
  o["error"] = ec && ec.category() == tws::client_category() ? ec.value()
               : ec ? static_cast<int>(tws::ClientError::request_failed)
                    : 0;
  if (e) o["tws_error"] = json::object{{"id", e->id}, {"code", e->code}, {"text", e->text}};
  else o["tws_error"] = nullptr;
  return o;
}

std::optional<LookupReply> lookup_reply_of(const json::object& o) {
  const auto err = integer(o, "error", 0, static_cast<std::int64_t>(tws::ClientError::cancelled));
  if (!err) return std::nullopt;
  LookupReply r;
  if (*err != 0) r.error = make_error_code(static_cast<tws::ClientError>(*err));
  if (const auto* t = o.if_contains("tws_error"); t && t->is_object()) {
    const auto& to = t->get_object();
    tws::ErrorMessage m;
    m.id = static_cast<int>(integer(to, "id", -kMaxInt, kMaxInt).value_or(0));
    m.code = static_cast<int>(integer(to, "code", -kMaxInt, kMaxInt).value_or(0));
    m.text = str(to, "text");
    r.tws_error = std::move(m);
  }
  return r;
}

} // namespace

std::string encode_details_request(const tws::Contract& query) {
  return json::serialize(json::object{{"contract", contract_query_json(query)}});
}

std::optional<tws::Contract> parse_details_request(std::string_view text) {
  const auto o = object_of(text);
  if (!o) return std::nullopt;
  const auto* c = o->if_contains("contract");
  if (!c || !c->is_object()) return std::nullopt;
  const auto& co = c->get_object();
  tws::Contract q;
  q.con_id = static_cast<int>(integer(co, "con_id", 0, kMaxInt).value_or(0));
  q.symbol = str(co, "symbol");
  q.sec_type = str(co, "sec_type");
  q.last_trade_date_or_contract_month = str(co, "last_trade_date_or_contract_month");
  q.multiplier = str(co, "multiplier");
  q.exchange = str(co, "exchange");
  q.primary_exchange = str(co, "primary_exchange");
  q.currency = str(co, "currency");
  q.local_symbol = str(co, "local_symbol");
  q.trading_class = str(co, "trading_class");
  q.include_expired = boolean(co, "include_expired");
  if (q.con_id == 0 && q.symbol.empty() && q.local_symbol.empty()) return std::nullopt;
  return q;
}

std::string encode_details_reply(std::error_code ec, const tws::ErrorMessage* e,
                                 const std::vector<tws::ContractDetails>& details) {
  auto o = lookup_reply_json(ec, e);
  json::array list;
  for (const auto& d : details) list.push_back(contracts::details_to_json(d));
  o["details"] = std::move(list);
  return json::serialize(o);
}

namespace {

/// A lookup reply: its error fields and the list under `key`, each object
/// read by `item` (which may throw); nullopt when
/// anything is malformed.
template <class T, class Item>
std::optional<std::pair<LookupReply, std::vector<T>>>
parse_lookup_reply(std::string_view text, std::string_view key, Item item) {
  const auto o = object_of(text);
  if (!o) return std::nullopt;
  auto r = lookup_reply_of(*o);
  const auto* list = o->if_contains(key);
  if (!r || !list || !list->is_array()) return std::nullopt;
  std::vector<T> out;
  try {
    for (const auto& v : list->get_array()) {
      if (!v.is_object()) return std::nullopt;
      out.push_back(item(v.get_object()));
    }
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return std::pair{std::move(*r), std::move(out)};
}

} // namespace

std::optional<std::pair<LookupReply, std::vector<tws::ContractDetails>>>
parse_details_reply(std::string_view text) {
  return parse_lookup_reply<tws::ContractDetails>(
      text, "details", [](const json::object& o) { return contracts::details_from_json(o); });
}

std::string encode_symbols_request(const std::string& pattern) {
  return json::serialize(json::object{{"pattern", pattern}});
}

std::optional<std::string> parse_symbols_request(std::string_view text) {
  const auto o = object_of(text);
  if (!o) return std::nullopt;
  auto p = str(*o, "pattern");
  if (p.empty()) return std::nullopt;
  return p;
}

std::string encode_symbols_reply(std::error_code ec, const tws::ErrorMessage* e,
                                 const std::vector<tws::ContractDescription>& samples) {
  auto o = lookup_reply_json(ec, e);
  json::array list;
  for (const auto& s : samples) {
    json::array derivatives;
    for (const auto& d : s.derivative_sec_types) derivatives.emplace_back(d);
    list.push_back(json::object{{"con_id", s.con_id},
                                {"symbol", s.symbol},
                                {"sec_type", s.sec_type},
                                {"primary_exchange", s.primary_exchange},
                                {"currency", s.currency},
                                {"derivative_sec_types", std::move(derivatives)},
                                {"description", s.description},
                                {"issuer_id", s.issuer_id}});
  }
  o["samples"] = std::move(list);
  return json::serialize(o);
}

std::optional<std::pair<LookupReply, std::vector<tws::ContractDescription>>>
parse_symbols_reply(std::string_view text) {
  return parse_lookup_reply<tws::ContractDescription>(text, "samples", [](const json::object& so) {
    tws::ContractDescription d;
    d.con_id = static_cast<int>(integer(so, "con_id", 0, kMaxInt).value_or(0));
    d.symbol = str(so, "symbol");
    d.sec_type = str(so, "sec_type");
    d.primary_exchange = str(so, "primary_exchange");
    d.currency = str(so, "currency");
    if (const auto* a = so.if_contains("derivative_sec_types"); a && a->is_array())
      for (const auto& x : a->get_array())
        if (x.is_string()) d.derivative_sec_types.emplace_back(x.get_string());
    d.description = str(so, "description");
    d.issuer_id = str(so, "issuer_id");
    return d;
  });
}

std::string encode_forward_request(const ForwardRequestMsg& m) {
  return json::serialize(json::object{{"id", m.id}, {"target", m.target}, {"origin", m.origin}});
}

std::optional<ForwardRequestMsg> parse_forward_request(std::string_view text) {
  const auto o = object_of(text);
  if (!o) return std::nullopt;
  ForwardRequestMsg m{str(*o, "id"), str(*o, "target"), str(*o, "origin")};
  if (m.id.empty() || m.id.size() > 128) return std::nullopt;
  return m;
}

} // namespace bus

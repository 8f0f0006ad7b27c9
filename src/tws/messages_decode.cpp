// Decoders of the typed TWS messages: the handshake text and answer, the
// client's requests (the simulator's side) and TWS's messages (the client's
// side). Their encoders are in messages.cpp.
#include "tws/messages.hpp"
#include "tws/messages_detail.hpp"

namespace tws {
namespace {

/// Ids the 10.30 decoders know in the TWS-to-client direction. Anything else
/// is reported as unknown (and skipped by our client).
bool is_known_incoming_id(int id) { return (id >= 1 && id <= 21) || (id >= 45 && id <= 110); }
/// Ids the 10.30 encoders can send in the client-to-TWS direction.
bool is_known_outgoing_id(int id) { return (id >= 1 && id <= 25) || (id >= 49 && id <= 110); }

void read_contract_core(FieldReader& r, Contract& c) {
  c.con_id = r.i32();
  c.symbol = r.str();
  c.sec_type = r.str();
  c.last_trade_date_or_contract_month = r.str();
  c.strike = r.dbl();
  c.right = r.str();
  c.multiplier = r.str();
  c.exchange = r.str();
  c.primary_exchange = r.str();
  c.currency = r.str();
  c.local_symbol = r.str();
  c.trading_class = r.str();
}

/// Checks that the payload is NUL-terminated and reads its message id;
/// false, with `error` set, when either fails.
bool read_message_id(std::string_view payload, FieldReader& r, int& msg_id,
                     std::error_code& error) {
  if (payload.empty() || payload.back() != '\0') {
    error = make_error_code(WireError::unterminated_payload);
    return false;
  }
  msg_id = r.i32();
  error = r.error();
  return !error;
}

/// Reads a count field for a repeated group and checks it against what is
/// left in the payload, so a hostile count cannot make us allocate.
int read_count(FieldReader& r, std::size_t fields_per_item) {
  const int n = r.i32();
  if (!r.ok()) return 0;
  if (n < 0) return 0; // IB decoders treat <= 0 as "none"
  if (static_cast<std::size_t>(n) * fields_per_item > r.remaining()) {
    r.fail(WireError::missing_field);
    return 0;
  }
  return n;
}

/// "tag=value;tag=value;" (reqHistoricalTicks' miscOptions) -> the list.
std::vector<TagValue> parse_tag_values(std::string_view packed) {
  std::vector<TagValue> out;
  while (!packed.empty()) {
    auto end = packed.find(';');
    const std::string_view item = packed.substr(0, end);
    packed = end == std::string_view::npos ? std::string_view{} : packed.substr(end + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    TagValue tv;
    tv.tag = std::string(item.substr(0, eq));
    if (eq != std::string_view::npos) tv.value = std::string(item.substr(eq + 1));
    out.push_back(std::move(tv));
  }
  return out;
}

void decode_historical_ticks(FieldReader& r, HistoricalTicks& m) {
  m.req_id = r.i32();
  const int n = read_count(r, 4);
  m.ticks.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n && r.ok(); ++i) {
    HistoricalTick t;
    t.time = r.i64();
    r.i32(); // unused, "for consistency"
    t.price = r.dbl();
    t.size = r.decimal();
    m.ticks.push_back(t);
  }
  m.done = r.boolean();
}

void decode_historical_ticks(FieldReader& r, HistoricalTicksBidAsk& m) {
  m.req_id = r.i32();
  const int n = read_count(r, 6);
  m.ticks.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n && r.ok(); ++i) {
    HistoricalTickBidAsk t;
    t.time = r.i64();
    const auto mask = r.i64();
    t.ask_past_high = (mask & 1) != 0;
    t.bid_past_low = (mask & 2) != 0;
    t.bid_price = r.dbl();
    t.ask_price = r.dbl();
    t.bid_size = r.decimal();
    t.ask_size = r.decimal();
    m.ticks.push_back(t);
  }
  m.done = r.boolean();
}

void decode_historical_ticks(FieldReader& r, HistoricalTicksLast& m) {
  m.req_id = r.i32();
  const int n = read_count(r, 6);
  m.ticks.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n && r.ok(); ++i) {
    HistoricalTickLast t;
    t.time = r.i64();
    const auto mask = r.i64();
    t.past_limit = (mask & 1) != 0;
    t.unreported = (mask & 2) != 0;
    t.price = r.dbl();
    t.size = r.decimal();
    t.exchange = r.str();
    t.special_conditions = r.str();
    m.ticks.push_back(std::move(t));
  }
  m.done = r.boolean();
}

void decode_contract_data(FieldReader& r, int server_version, ContractData& out) {
  int version = 8;
  if (server_version < sv::kSizeRules) version = r.i32();
  out.req_id = version >= 3 ? r.i32() : -1;
  ContractDetails& d = out.details;
  Contract& c = d.contract;
  c.symbol = r.str();
  c.sec_type = r.str();
  {
    std::string_view ltd = r.str();
    const char sep = ltd.find('-') != std::string_view::npos ? '-' : ' ';
    std::vector<std::string_view> parts;
    std::size_t pos = 0;
    while (pos <= ltd.size()) {
      std::size_t next = ltd.find(sep, pos);
      if (next == std::string_view::npos) next = ltd.size();
      if (next > pos) parts.push_back(ltd.substr(pos, next - pos));
      pos = next + 1;
    }
    if (!parts.empty()) c.last_trade_date_or_contract_month = parts[0];
    if (parts.size() > 1) d.last_trade_time = parts[1];
  }
  if (server_version >= sv::kLastTradeDate) d.last_trade_date = r.str();
  c.strike = r.dbl();
  c.right = r.str();
  c.exchange = r.str();
  c.currency = r.str();
  c.local_symbol = r.str();
  d.market_name = r.str();
  c.trading_class = r.str();
  c.con_id = r.i32();
  d.min_tick = r.dbl();
  if (server_version >= sv::kMdSizeMultiplier && server_version < sv::kSizeRules) r.i32();
  c.multiplier = r.str();
  d.order_types = r.str();
  d.valid_exchanges = r.str();
  d.price_magnifier = r.i32();
  if (version >= 4) d.under_con_id = r.i32();
  if (version >= 5) {
    d.long_name = r.str();
    c.primary_exchange = r.str();
  }
  if (version >= 6) {
    d.contract_month = r.str();
    d.industry = r.str();
    d.category = r.str();
    d.subcategory = r.str();
    d.time_zone_id = r.str();
    d.trading_hours = r.str();
    d.liquid_hours = r.str();
  }
  if (version >= 8) {
    d.ev_rule = r.str();
    d.ev_multiplier = r.i32();
  }
  if (version >= 7) {
    const int n = read_count(r, 2);
    for (int i = 0; i < n && r.ok(); ++i) {
      TagValue tv;
      tv.tag = r.str();
      tv.value = r.str();
      d.sec_ids.push_back(std::move(tv));
    }
  }
  if (server_version >= sv::kAggGroup) d.agg_group = r.i32();
  if (server_version >= sv::kUnderlyingInfo) {
    d.under_symbol = r.str();
    d.under_sec_type = r.str();
  }
  if (server_version >= sv::kMarketRules) d.market_rule_ids = r.str();
  if (server_version >= sv::kRealExpirationDate) d.real_expiration_date = r.str();
  if (server_version >= sv::kStockType) d.stock_type = r.str();
  if (server_version >= sv::kFractionalSizeSupport && server_version < sv::kSizeRules) r.decimal();
  if (server_version >= sv::kSizeRules) {
    d.min_size = r.decimal();
    d.size_increment = r.decimal();
    d.suggested_size_increment = r.decimal();
  }
  if (server_version >= sv::kFundDataFields && c.sec_type == "FUND") {
    for (int i = 0; i < 17 && r.ok(); ++i) d.fund.emplace_back(r.str());
  }
  if (server_version >= sv::kIneligibilityReasons) {
    const int n = read_count(r, 2);
    for (int i = 0; i < n && r.ok(); ++i) {
      TagValue tv;
      tv.tag = r.str();
      tv.value = r.str();
      d.ineligibility_reasons.push_back(std::move(tv));
    }
  }
}

} // namespace

// ------------------------------------------------------------- handshake

std::optional<HandshakeRequest> parse_handshake_versions(std::string_view text) {
  if (text.size() < 2 || text[0] != 'v') return std::nullopt;
  text.remove_prefix(1);
  HandshakeRequest out;
  const auto space = text.find(' ');
  if (space != std::string_view::npos) {
    out.options = std::string(text.substr(space + 1));
    text = text.substr(0, space);
  }
  const auto dots = text.find("..");
  auto parse_positive = [](std::string_view s) -> std::optional<int> {
    if (s.empty() || s.size() > 9) return std::nullopt;
    for (char ch : s)
      if (ch < '0' || ch > '9') return std::nullopt;
    return static_cast<int>(*parse_int(s));
  };
  auto lo = parse_positive(text.substr(0, dots));
  auto hi = dots == std::string_view::npos ? lo : parse_positive(text.substr(dots + 2));
  if (!lo || !hi || *lo > *hi) return std::nullopt;
  out.min_version = *lo;
  out.max_version = *hi;
  return out;
}

std::optional<ServerHello> decode_server_hello(std::string_view payload, std::error_code& ec) {
  auto fields = split_fields(payload);
  if (!fields || fields->size() != 2) {
    ec = make_error_code(WireError::bad_handshake);
    return std::nullopt;
  }
  auto v = parse_int((*fields)[0]);
  if (!v || *v <= 0 || *v > 100000) {
    ec = make_error_code(WireError::bad_handshake);
    return std::nullopt;
  }
  ec = {};
  return ServerHello{static_cast<int>(*v), std::string((*fields)[1])};
}

// ------------------------------------------------------------- decoders C→T

DecodedRequest decode_request(std::string_view payload, int server_version) {
  DecodedRequest out{OtherRequest{}, {}, 0};
  FieldReader r(payload);
  if (!read_message_id(payload, r, out.msg_id, out.error)) return out;
  switch (static_cast<OutId>(out.msg_id)) {
  case OutId::start_api: {
    StartApi m;
    r.i32(); // version
    m.client_id = r.i32();
    if (server_version >= sv::kOptionalCapabilities && !r.at_end())
      m.optional_capabilities = r.str();
    out.request = std::move(m);
    break;
  }
  case OutId::req_ids: {
    ReqIds m;
    r.i32();
    m.num_ids = r.i32();
    out.request = m;
    break;
  }
  case OutId::req_current_time:
    r.i32();
    out.request = ReqCurrentTime{};
    break;
  case OutId::req_managed_accts:
    r.i32();
    out.request = ReqManagedAccts{};
    break;
  case OutId::req_market_data_type: {
    ReqMarketDataType m;
    r.i32();
    m.market_data_type = r.i32();
    out.request = m;
    break;
  }
  case OutId::req_contract_data: {
    ReqContractDetails m;
    r.i32(); // version 8
    m.req_id = r.i32();
    read_contract_core(r, m.contract);
    m.contract.include_expired = r.boolean();
    m.contract.sec_id_type = r.str();
    m.contract.sec_id = r.str();
    // issuerId (>= 176) is the last field; tolerate clients that omit it.
    if (server_version >= sv::kBondIssuerId && !r.at_end()) m.contract.issuer_id = r.str();
    out.request = std::move(m);
    break;
  }
  case OutId::req_tick_by_tick_data: {
    ReqTickByTickData m;
    m.req_id = r.i32();
    read_contract_core(r, m.contract);
    m.tick_type = r.str();
    if (server_version >= sv::kTickByTickIgnoreSize) {
      m.number_of_ticks = r.i32();
      m.ignore_size = r.boolean();
    }
    out.request = std::move(m);
    break;
  }
  case OutId::cancel_tick_by_tick_data: {
    CancelTickByTickData m;
    m.req_id = r.i32();
    out.request = m;
    break;
  }
  case OutId::req_historical_ticks: {
    ReqHistoricalTicks m;
    m.req_id = r.i32();
    read_contract_core(r, m.contract);
    m.contract.include_expired = r.boolean();
    m.start_date_time = r.str();
    m.end_date_time = r.str();
    m.number_of_ticks = r.i32();
    m.what_to_show = r.str();
    m.use_rth = r.boolean();
    m.ignore_size = r.boolean();
    m.misc_options = parse_tag_values(r.str());
    out.request = std::move(m);
    break;
  }
  case OutId::req_matching_symbols: {
    ReqMatchingSymbols m;
    detail::decode_body(r, m);
    out.request = std::move(m);
    break;
  }
  default:
    if (!is_known_outgoing_id(out.msg_id)) {
      out.error = make_error_code(WireError::unknown_message);
      return out;
    }
    out.request = OtherRequest{out.msg_id};
    return out;
  }
  out.error = r.error();
  return out;
}

// ------------------------------------------------------------- decoders T→C

DecodedMessage decode_message(std::string_view payload, int server_version) {
  DecodedMessage out{OtherMessage{}, {}, 0};
  FieldReader r(payload);
  if (!read_message_id(payload, r, out.msg_id, out.error)) return out;
  switch (static_cast<InId>(out.msg_id)) {
  case InId::tick_by_tick: {
    const int req_id = r.i32();
    const int type = r.i32();
    if (!r.ok()) break;
    if (type == 0) {
      out.message = TickByTickNone{req_id};
      break;
    }
    const std::int64_t time = r.i64();
    // Built in place: a tick is decoded for every frame of a subscription.
    if (type == 1 || type == 2) {
      auto& m = out.message.emplace<TickByTickLast>();
      m.req_id = req_id;
      m.type = static_cast<TickType>(type);
      m.time = time;
      m.price = r.dbl();
      m.size = r.decimal();
      const auto mask = r.i64();
      m.past_limit = (mask & 1) != 0;
      m.unreported = (mask & 2) != 0;
      m.exchange = r.str();
      m.special_conditions = r.str();
    } else if (type == 3) {
      auto& m = out.message.emplace<TickByTickBidAsk>();
      m.req_id = req_id;
      m.time = time;
      m.bid_price = r.dbl();
      m.ask_price = r.dbl();
      m.bid_size = r.decimal();
      m.ask_size = r.decimal();
      const auto mask = r.i64();
      m.bid_past_low = (mask & 1) != 0;
      m.ask_past_high = (mask & 2) != 0;
    } else if (type == 4) {
      auto& m = out.message.emplace<TickByTickMidPoint>();
      m.req_id = req_id;
      m.time = time;
      m.mid_point = r.dbl();
    } else {
      r.fail(WireError::bad_value);
    }
    break;
  }
  case InId::err_msg: {
    ErrorMessage m;
    r.i32(); // version
    m.id = r.i32();
    m.code = r.i32();
    m.text = r.str();
    if (server_version >= sv::kAdvancedOrderReject && !r.at_end())
      m.advanced_order_reject_json = r.str();
    out.message = std::move(m);
    break;
  }
  case InId::next_valid_id: {
    NextValidId m;
    r.i32();
    m.order_id = r.i32();
    out.message = m;
    break;
  }
  case InId::managed_accts: {
    ManagedAccounts m;
    r.i32();
    m.accounts = r.str();
    out.message = std::move(m);
    break;
  }
  case InId::contract_data: {
    ContractData m;
    decode_contract_data(r, server_version, m);
    out.message = std::move(m);
    break;
  }
  case InId::contract_data_end: {
    ContractDataEnd m;
    r.i32();
    m.req_id = r.i32();
    out.message = m;
    break;
  }
  case InId::current_time: {
    CurrentTime m;
    r.i32();
    m.time = r.i64();
    out.message = m;
    break;
  }
  case InId::historical_ticks: {
    HistoricalTicks m;
    decode_historical_ticks(r, m);
    out.message = std::move(m);
    break;
  }
  case InId::historical_ticks_bid_ask: {
    HistoricalTicksBidAsk m;
    decode_historical_ticks(r, m);
    out.message = std::move(m);
    break;
  }
  case InId::historical_ticks_last: {
    HistoricalTicksLast m;
    decode_historical_ticks(r, m);
    out.message = std::move(m);
    break;
  }
  case InId::symbol_samples: {
    SymbolSamples m;
    detail::decode_body(r, server_version, m);
    out.message = std::move(m);
    break;
  }
  default:
    if (!is_known_incoming_id(out.msg_id)) {
      out.error = make_error_code(WireError::unknown_message);
      return out;
    }
    out.message = OtherMessage{out.msg_id};
    return out;
  }
  out.error = r.error();
  return out;
}

} // namespace tws

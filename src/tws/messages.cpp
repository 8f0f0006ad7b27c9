#include "tws/messages.hpp"

#include <algorithm>
#include <cctype>

namespace tws {
namespace {

constexpr std::array<std::string_view, 4> kTickTypeNames = {"Last", "AllLast", "BidAsk",
                                                            "MidPoint"};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

int id_of(OutId id) { return static_cast<int>(id); }
int id_of(InId id) { return static_cast<int>(id); }

/// Ids the 10.30 decoders know in the TWS-to-client direction. Anything else
/// is reported as unknown (and skipped by our client).
bool is_known_incoming_id(int id) { return (id >= 1 && id <= 21) || (id >= 45 && id <= 110); }
/// Ids the 10.30 encoders can send in the client-to-TWS direction.
bool is_known_outgoing_id(int id) { return (id >= 1 && id <= 25) || (id >= 49 && id <= 110); }

void write_contract_core(FieldWriter& w, const Contract& c) {
  // conId .. localSymbol, common to reqContractDetails and reqTickByTickData
  // at every version >= 100 (primaryExchange is its own field from 75 on).
  w.add_int(c.con_id)
      .add(c.symbol)
      .add(c.sec_type)
      .add(c.last_trade_date_or_contract_month)
      .add_double(c.strike)
      .add(c.right)
      .add(c.multiplier)
      .add(c.exchange)
      .add(c.primary_exchange)
      .add(c.currency)
      .add(c.local_symbol)
      .add(c.trading_class);
}

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

// ------------------------------------------------------------- tick types

std::string_view to_string(TickType t) {
  const int i = static_cast<int>(t) - 1;
  if (i < 0 || i >= static_cast<int>(kTickTypeNames.size())) return "None";
  return kTickTypeNames[static_cast<std::size_t>(i)];
}

std::optional<TickType> parse_tick_type(std::string_view s) {
  for (std::size_t i = 0; i < kTickTypeNames.size(); ++i)
    if (s == kTickTypeNames[i]) return static_cast<TickType>(i + 1);
  return std::nullopt;
}

std::optional<TickType> parse_tick_type_nocase(std::string_view s) {
  for (std::size_t i = 0; i < kTickTypeNames.size(); ++i)
    if (iequals(s, kTickTypeNames[i])) return static_cast<TickType>(i + 1);
  return std::nullopt;
}

// ------------------------------------------------------------- handshake

std::string encode_handshake(int min_version, int max_version, std::string_view options) {
  std::string text = "v" + std::to_string(min_version);
  if (max_version != min_version) text += ".." + std::to_string(max_version);
  if (!options.empty()) {
    text += ' ';
    text.append(options);
  }
  std::string out("API", 3);
  out.push_back('\0');
  out += make_frame(text);
  return out;
}

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

std::string encode_server_hello(int server_version, std::string_view connection_time) {
  FieldWriter w;
  w.add_int(server_version).add(connection_time);
  return w.finish();
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

// ------------------------------------------------------------- encoders C→T

std::string encode(const StartApi& m, int server_version) {
  FieldWriter w;
  w.add_int(id_of(OutId::start_api)).add_int(2).add_int(m.client_id);
  if (server_version >= sv::kOptionalCapabilities) w.add(m.optional_capabilities);
  return w.finish();
}

std::string encode(const ReqIds& m) {
  FieldWriter w;
  w.add_int(id_of(OutId::req_ids)).add_int(1).add_int(m.num_ids);
  return w.finish();
}

std::string encode(const ReqCurrentTime&) {
  FieldWriter w;
  w.add_int(id_of(OutId::req_current_time)).add_int(1);
  return w.finish();
}

std::string encode(const ReqManagedAccts&) {
  FieldWriter w;
  w.add_int(id_of(OutId::req_managed_accts)).add_int(1);
  return w.finish();
}

std::string encode(const ReqMarketDataType& m) {
  FieldWriter w;
  w.add_int(id_of(OutId::req_market_data_type)).add_int(1).add_int(m.market_data_type);
  return w.finish();
}

std::string encode(const ReqContractDetails& m, int server_version) {
  FieldWriter w;
  w.add_int(id_of(OutId::req_contract_data)).add_int(8).add_int(m.req_id);
  write_contract_core(w, m.contract);
  w.add_bool(m.contract.include_expired).add(m.contract.sec_id_type).add(m.contract.sec_id);
  if (server_version >= sv::kBondIssuerId) w.add(m.contract.issuer_id);
  return w.finish();
}

std::string encode(const ReqTickByTickData& m, int server_version) {
  FieldWriter w;
  w.add_int(id_of(OutId::req_tick_by_tick_data)).add_int(m.req_id);
  write_contract_core(w, m.contract);
  w.add(m.tick_type);
  if (server_version >= sv::kTickByTickIgnoreSize)
    w.add_int(m.number_of_ticks).add_bool(m.ignore_size);
  return w.finish();
}

std::string encode(const CancelTickByTickData& m) {
  FieldWriter w;
  w.add_int(id_of(OutId::cancel_tick_by_tick_data)).add_int(m.req_id);
  return w.finish();
}

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

// ------------------------------------------------------------- encoders T→C

std::string encode(const NextValidId& m) {
  FieldWriter w;
  w.add_int(id_of(InId::next_valid_id)).add_int(1).add_int(m.order_id);
  return w.finish();
}

std::string encode(const ManagedAccounts& m) {
  FieldWriter w;
  w.add_int(id_of(InId::managed_accts)).add_int(1).add(m.accounts);
  return w.finish();
}

std::string encode(const ErrorMessage& m, int server_version) {
  FieldWriter w;
  w.add_int(id_of(InId::err_msg)).add_int(2).add_int(m.id).add_int(m.code).add(m.text);
  if (server_version >= sv::kAdvancedOrderReject) w.add(m.advanced_order_reject_json);
  return w.finish();
}

std::string encode(const ContractData& m, int server_version) {
  const ContractDetails& d = m.details;
  const Contract& c = d.contract;
  FieldWriter w;
  w.add_int(id_of(InId::contract_data));
  if (server_version < sv::kSizeRules) w.add_int(8);
  w.add_int(m.req_id).add(c.symbol).add(c.sec_type);
  {
    std::string ltd = c.last_trade_date_or_contract_month;
    if (!d.last_trade_time.empty()) ltd += " " + d.last_trade_time;
    w.add(ltd);
  }
  if (server_version >= sv::kLastTradeDate) w.add(d.last_trade_date);
  w.add_price(c.strike)
      .add(c.right)
      .add(c.exchange)
      .add(c.currency)
      .add(c.local_symbol)
      .add(d.market_name)
      .add(c.trading_class)
      .add_int(c.con_id)
      .add_price(d.min_tick);
  if (server_version >= sv::kMdSizeMultiplier && server_version < sv::kSizeRules) w.add_int(1);
  w.add(c.multiplier)
      .add(d.order_types)
      .add(d.valid_exchanges)
      .add_int(d.price_magnifier)
      .add_int(d.under_con_id)
      .add(d.long_name)
      .add(c.primary_exchange)
      .add(d.contract_month)
      .add(d.industry)
      .add(d.category)
      .add(d.subcategory)
      .add(d.time_zone_id)
      .add(d.trading_hours)
      .add(d.liquid_hours)
      .add(d.ev_rule);
  // TWS leaves evMultiplier empty for most contracts.
  if (d.ev_multiplier == 0) w.add("");
  else w.add_int(d.ev_multiplier);
  w.add_int(static_cast<std::int64_t>(d.sec_ids.size()));
  for (const auto& tv : d.sec_ids) w.add(tv.tag).add(tv.value);
  if (server_version >= sv::kAggGroup) w.add_int(d.agg_group);
  if (server_version >= sv::kUnderlyingInfo) w.add(d.under_symbol).add(d.under_sec_type);
  if (server_version >= sv::kMarketRules) w.add(d.market_rule_ids);
  if (server_version >= sv::kRealExpirationDate) w.add(d.real_expiration_date);
  if (server_version >= sv::kStockType) w.add(d.stock_type);
  if (server_version >= sv::kFractionalSizeSupport && server_version < sv::kSizeRules)
    w.add_decimal(d.size_increment);
  if (server_version >= sv::kSizeRules)
    w.add_decimal(d.min_size).add_decimal(d.size_increment).add_decimal(d.suggested_size_increment);
  if (server_version >= sv::kFundDataFields && c.sec_type == "FUND") {
    for (std::size_t i = 0; i < 17; ++i)
      w.add(i < d.fund.size() ? std::string_view(d.fund[i]) : "");
  }
  if (server_version >= sv::kIneligibilityReasons) {
    w.add_int(static_cast<std::int64_t>(d.ineligibility_reasons.size()));
    for (const auto& tv : d.ineligibility_reasons) w.add(tv.tag).add(tv.value);
  }
  return w.finish();
}

std::string encode(const ContractDataEnd& m) {
  FieldWriter w;
  w.add_int(id_of(InId::contract_data_end)).add_int(1).add_int(m.req_id);
  return w.finish();
}

std::string encode(const CurrentTime& m) {
  FieldWriter w;
  w.add_int(id_of(InId::current_time)).add_int(1).add_int(m.time);
  return w.finish();
}

std::string encode(const TickByTickLast& m) {
  FieldWriter w;
  const int mask = (m.past_limit ? 1 : 0) | (m.unreported ? 2 : 0);
  w.add_int(id_of(InId::tick_by_tick))
      .add_int(m.req_id)
      .add_int(static_cast<int>(m.type))
      .add_int(m.time)
      .add_price(m.price)
      .add_decimal(m.size)
      .add_int(mask)
      .add(m.exchange)
      .add(m.special_conditions);
  return w.finish();
}

std::string encode(const TickByTickBidAsk& m) {
  FieldWriter w;
  const int mask = (m.bid_past_low ? 1 : 0) | (m.ask_past_high ? 2 : 0);
  w.add_int(id_of(InId::tick_by_tick))
      .add_int(m.req_id)
      .add_int(static_cast<int>(TickType::bid_ask))
      .add_int(m.time)
      .add_price(m.bid_price)
      .add_price(m.ask_price)
      .add_decimal(m.bid_size)
      .add_decimal(m.ask_size)
      .add_int(mask);
  return w.finish();
}

std::string encode(const TickByTickMidPoint& m) {
  FieldWriter w;
  w.add_int(id_of(InId::tick_by_tick))
      .add_int(m.req_id)
      .add_int(static_cast<int>(TickType::mid_point))
      .add_int(m.time)
      .add_price(m.mid_point);
  return w.finish();
}

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

std::string printable_payload(std::string_view payload, std::size_t max_chars) {
  std::string out;
  for (char ch : payload) {
    if (out.size() >= max_chars) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '\0') out += '|';
    else if (u >= 32 && u < 127) out += ch;
    else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

} // namespace tws

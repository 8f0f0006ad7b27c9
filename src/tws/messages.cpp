// Encoders of the typed TWS messages, both directions (handshake included),
// the tick-type names and printable_payload. Their decoders are in
// messages_decode.cpp.
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

std::string encode_server_hello(int server_version, std::string_view connection_time) {
  FieldWriter w;
  w.add_int(server_version).add(connection_time);
  return w.finish();
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

std::string encode(const ReqHistoricalTicks& m) {
  FieldWriter w;
  w.add_int(id_of(OutId::req_historical_ticks)).add_int(m.req_id);
  write_contract_core(w, m.contract);
  w.add_bool(m.contract.include_expired)
      .add(m.start_date_time)
      .add(m.end_date_time)
      .add_int(m.number_of_ticks)
      .add(m.what_to_show)
      .add_bool(m.use_rth)
      .add_bool(m.ignore_size);
  std::string misc;
  for (const auto& tv : m.misc_options) misc += tv.tag + "=" + tv.value + ";";
  w.add(misc);
  return w.finish();
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

std::string encode(const HistoricalTicks& m) {
  FieldWriter w;
  w.add_int(id_of(InId::historical_ticks))
      .add_int(m.req_id)
      .add_int(static_cast<std::int64_t>(m.ticks.size()));
  for (const auto& t : m.ticks) w.add_int(t.time).add_int(0).add_price(t.price).add_decimal(t.size);
  w.add_bool(m.done);
  return w.finish();
}

std::string encode(const HistoricalTicksBidAsk& m) {
  FieldWriter w;
  w.add_int(id_of(InId::historical_ticks_bid_ask))
      .add_int(m.req_id)
      .add_int(static_cast<std::int64_t>(m.ticks.size()));
  for (const auto& t : m.ticks) {
    const int mask = (t.ask_past_high ? 1 : 0) | (t.bid_past_low ? 2 : 0);
    w.add_int(t.time)
        .add_int(mask)
        .add_price(t.bid_price)
        .add_price(t.ask_price)
        .add_decimal(t.bid_size)
        .add_decimal(t.ask_size);
  }
  w.add_bool(m.done);
  return w.finish();
}

std::string encode(const HistoricalTicksLast& m) {
  FieldWriter w;
  w.add_int(id_of(InId::historical_ticks_last))
      .add_int(m.req_id)
      .add_int(static_cast<std::int64_t>(m.ticks.size()));
  for (const auto& t : m.ticks) {
    const int mask = (t.past_limit ? 1 : 0) | (t.unreported ? 2 : 0);
    w.add_int(t.time)
        .add_int(mask)
        .add_price(t.price)
        .add_decimal(t.size)
        .add(t.exchange)
        .add(t.special_conditions);
  }
  w.add_bool(m.done);
  return w.finish();
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

// Typed TWS messages and their layouts, both directions, for every server
// version in [kMinServerVersion, kMaxServerVersion] (tws-protocol.md §3-§5).
// The client encodes requests and decodes replies; the simulator does the
// reverse with the same functions, so the two can never drift apart.
//
// All functions are pure and thread-safe.
#pragma once

#include "tws/wire.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

namespace tws {

// ------------------------------------------------------------- versions

inline constexpr int kMinServerVersion = 100;
inline constexpr int kMaxServerVersion = 187;

namespace sv {
inline constexpr int kContractDataChain = 40;
inline constexpr int kSecIdType = 45;
inline constexpr int kTradingClass = 68;
inline constexpr int kLinking = 70;
inline constexpr int kOptionalCapabilities = 72;
inline constexpr int kPrimaryExch = 75;
inline constexpr int kReqMatchingSymbols = 108;
inline constexpr int kMdSizeMultiplier = 110;
inline constexpr int kAggGroup = 121;
inline constexpr int kUnderlyingInfo = 122;
inline constexpr int kMarketRules = 126;
inline constexpr int kHistoricalTicks = 130;
inline constexpr int kRealExpirationDate = 134;
inline constexpr int kTickByTick = 137;
inline constexpr int kTickByTickIgnoreSize = 140;
inline constexpr int kStockType = 152;
inline constexpr int kEncodeMsgAscii7 = 153;
inline constexpr int kFractionalSizeSupport = 163;
inline constexpr int kSizeRules = 164;
inline constexpr int kAdvancedOrderReject = 166;
inline constexpr int kBondIssuerId = 176;
inline constexpr int kFundDataFields = 179;
inline constexpr int kLastTradeDate = 182;
inline constexpr int kIneligibilityReasons = 186;
} // namespace sv

// ------------------------------------------------------------- ids

/// Client-to-TWS message ids (§5.1).
enum class OutId : int {
  req_mkt_data = 1,
  cancel_mkt_data = 2,
  req_ids = 8,
  req_contract_data = 9,
  req_managed_accts = 17,
  req_current_time = 49,
  req_market_data_type = 59,
  start_api = 71,
  req_matching_symbols = 81,
  req_historical_ticks = 96,
  req_tick_by_tick_data = 97,
  cancel_tick_by_tick_data = 98,
};

/// TWS-to-client message ids (§5.2).
enum class InId : int {
  tick_price = 1,
  tick_size = 2,
  err_msg = 4,
  next_valid_id = 9,
  contract_data = 10,
  managed_accts = 15,
  bond_contract_data = 18,
  tick_generic = 45,
  tick_string = 46,
  current_time = 49,
  contract_data_end = 52,
  tick_snapshot_end = 57,
  market_data_type = 58,
  symbol_samples = 79,
  tick_req_params = 81,
  historical_ticks = 96,
  historical_ticks_bid_ask = 97,
  historical_ticks_last = 98,
  tick_by_tick = 99,
};

// ------------------------------------------------------------- model

/// The four tick-by-tick kinds; values are the wire codes of TICK_BY_TICK.
enum class TickType : int { last = 1, all_last = 2, bid_ask = 3, mid_point = 4 };

/// "Last", "AllLast", "BidAsk", "MidPoint": the request strings.
std::string_view to_string(TickType t);
/// Exact (case-sensitive) request string, as TWS wants it.
std::optional<TickType> parse_tick_type(std::string_view s);
/// Case-insensitive variant for user input ("bidask", "BIDASK").
std::optional<TickType> parse_tick_type_nocase(std::string_view s);

struct Contract {
  int con_id = 0;
  std::string symbol;
  std::string sec_type;
  std::string last_trade_date_or_contract_month;
  double strike = 0.0;
  std::string right;
  std::string multiplier;
  std::string exchange;
  std::string primary_exchange;
  std::string currency;
  std::string local_symbol;
  std::string trading_class;
  bool include_expired = false;
  std::string sec_id_type;
  std::string sec_id;
  std::string issuer_id;
  bool operator==(const Contract&) const = default;
};

struct TagValue {
  std::string tag;
  std::string value;
  bool operator==(const TagValue&) const = default;
};

/// CONTRACT_DATA (§4.4). `fund` holds the 17 raw FUND-block fields when
/// the contract is a FUND at server >= 179, else it is empty.
struct ContractDetails {
  Contract contract;
  std::string last_trade_time;
  std::string last_trade_date;
  std::string market_name;
  double min_tick = 0.0;
  std::string order_types;
  std::string valid_exchanges;
  int price_magnifier = 0;
  int under_con_id = 0;
  std::string long_name;
  std::string contract_month;
  std::string industry;
  std::string category;
  std::string subcategory;
  std::string time_zone_id;
  std::string trading_hours;
  std::string liquid_hours;
  std::string ev_rule;
  int ev_multiplier = 0;
  std::vector<TagValue> sec_ids;
  int agg_group = 0;
  std::string under_symbol;
  std::string under_sec_type;
  std::string market_rule_ids;
  std::string real_expiration_date;
  std::string stock_type;
  Decimal min_size;
  Decimal size_increment;
  Decimal suggested_size_increment;
  std::vector<std::string> fund;
  std::vector<TagValue> ineligibility_reasons;
  bool operator==(const ContractDetails&) const = default;
};

// ------------------------------------------------------------- C→T messages

struct StartApi {
  int client_id = 0;
  std::string optional_capabilities;
  bool operator==(const StartApi&) const = default;
};
struct ReqIds {
  int num_ids = 1;
  bool operator==(const ReqIds&) const = default;
};
struct ReqCurrentTime {
  bool operator==(const ReqCurrentTime&) const = default;
};
struct ReqManagedAccts {
  bool operator==(const ReqManagedAccts&) const = default;
};
struct ReqMarketDataType {
  int market_data_type = 1;
  bool operator==(const ReqMarketDataType&) const = default;
};
struct ReqContractDetails {
  int req_id = 0;
  Contract contract;
  bool operator==(const ReqContractDetails&) const = default;
};
struct ReqTickByTickData {
  int req_id = 0;
  Contract contract;
  std::string tick_type; // raw request string; validated by the receiver
  int number_of_ticks = 0;
  bool ignore_size = false;
  bool operator==(const ReqTickByTickData&) const = default;
};
struct CancelTickByTickData {
  int req_id = 0;
  bool operator==(const CancelTickByTickData&) const = default;
};
/// reqHistoricalTicks (§10.2): exactly one of start / end is meant to be set
/// ("yyyymmdd-hh:mm:ss" UTC, or "yyyymmdd hh:mm:ss <zone>"); the receiver
/// validates. Contract fields: conId .. tradingClass and includeExpired.
struct ReqHistoricalTicks {
  int req_id = 0;
  Contract contract;
  std::string start_date_time;
  std::string end_date_time;
  int number_of_ticks = 0;
  std::string what_to_show; // "TRADES", "BID_ASK", "MIDPOINT"; validated by the receiver
  bool use_rth = false;
  bool ignore_size = false;
  /// Packed on the wire as "tag=value;tag=value;".
  std::vector<TagValue> misc_options;
  bool operator==(const ReqHistoricalTicks&) const = default;
};
/// reqMatchingSymbols (§10.8): the start of a ticker or a word of a name.
struct ReqMatchingSymbols {
  int req_id = 0;
  std::string pattern;
  bool operator==(const ReqMatchingSymbols&) const = default;
};
/// A request we recognise by id but do not act on (reqMktData, ...).
struct OtherRequest {
  int msg_id = 0;
  bool operator==(const OtherRequest&) const = default;
};

using Request = std::variant<StartApi, ReqIds, ReqCurrentTime, ReqManagedAccts, ReqMarketDataType,
                             ReqContractDetails, ReqTickByTickData, CancelTickByTickData,
                             ReqHistoricalTicks, ReqMatchingSymbols, OtherRequest>;

// ------------------------------------------------------------- T→C messages

struct NextValidId {
  int order_id = 0;
  bool operator==(const NextValidId&) const = default;
};
struct ManagedAccounts {
  std::string accounts;
  bool operator==(const ManagedAccounts&) const = default;
};
struct ErrorMessage {
  int id = kNoValidId;
  int code = 0;
  std::string text;
  std::string advanced_order_reject_json;
  bool operator==(const ErrorMessage&) const = default;
};
struct ContractData {
  int req_id = 0;
  ContractDetails details;
  bool operator==(const ContractData&) const = default;
};
struct ContractDataEnd {
  int req_id = 0;
  bool operator==(const ContractDataEnd&) const = default;
};
struct CurrentTime {
  std::int64_t time = 0;
  bool operator==(const CurrentTime&) const = default;
};
/// TICK_BY_TICK Last (1) or AllLast (2).
struct TickByTickLast {
  int req_id = 0;
  TickType type = TickType::last;
  std::int64_t time = 0;
  double price = 0.0;
  Decimal size;
  bool past_limit = false;
  bool unreported = false;
  std::string exchange;
  std::string special_conditions;
  bool operator==(const TickByTickLast&) const = default;
};
/// TICK_BY_TICK BidAsk (3).
struct TickByTickBidAsk {
  int req_id = 0;
  std::int64_t time = 0;
  double bid_price = 0.0;
  double ask_price = 0.0;
  Decimal bid_size;
  Decimal ask_size;
  bool bid_past_low = false;
  bool ask_past_high = false;
  bool operator==(const TickByTickBidAsk&) const = default;
};
/// TICK_BY_TICK MidPoint (4).
struct TickByTickMidPoint {
  int req_id = 0;
  std::int64_t time = 0;
  double mid_point = 0.0;
  bool operator==(const TickByTickMidPoint&) const = default;
};
/// TICK_BY_TICK with tick type 0: nothing follows, no callback.
struct TickByTickNone {
  int req_id = 0;
  bool operator==(const TickByTickNone&) const = default;
};
/// One record of HISTORICAL_TICKS (96, MIDPOINT). The unused field after
/// the time is sent as 0 and skipped when read.
struct HistoricalTick {
  std::int64_t time = 0;
  double price = 0.0;
  Decimal size;
  bool operator==(const HistoricalTick&) const = default;
};
/// One record of HISTORICAL_TICKS_BID_ASK (97). Mask bit 0 = askPastHigh,
/// bit 1 = bidPastLow: the reverse of TICK_BY_TICK BidAsk (§10.4).
struct HistoricalTickBidAsk {
  std::int64_t time = 0;
  bool ask_past_high = false;
  bool bid_past_low = false;
  double bid_price = 0.0;
  double ask_price = 0.0;
  Decimal bid_size;
  Decimal ask_size;
  bool operator==(const HistoricalTickBidAsk&) const = default;
};
/// One record of HISTORICAL_TICKS_LAST (98, TRADES). Mask bit 0 =
/// pastLimit, bit 1 = unreported.
struct HistoricalTickLast {
  std::int64_t time = 0;
  bool past_limit = false;
  bool unreported = false;
  double price = 0.0;
  Decimal size;
  std::string exchange;
  std::string special_conditions;
  bool operator==(const HistoricalTickLast&) const = default;
};
/// HISTORICAL_TICKS (96): the answer to whatToShow MIDPOINT.
struct HistoricalTicks {
  int req_id = 0;
  std::vector<HistoricalTick> ticks;
  bool done = false;
  bool operator==(const HistoricalTicks&) const = default;
};
/// HISTORICAL_TICKS_BID_ASK (97): the answer to whatToShow BID_ASK.
struct HistoricalTicksBidAsk {
  int req_id = 0;
  std::vector<HistoricalTickBidAsk> ticks;
  bool done = false;
  bool operator==(const HistoricalTicksBidAsk&) const = default;
};
/// HISTORICAL_TICKS_LAST (98): the answer to whatToShow TRADES.
struct HistoricalTicksLast {
  int req_id = 0;
  std::vector<HistoricalTickLast> ticks;
  bool done = false;
  bool operator==(const HistoricalTicksLast&) const = default;
};
/// One description of SYMBOL_SAMPLES (§10.9). description and issuerId are
/// on the wire only at server >= 176 (BOND_ISSUERID); below they stay empty.
struct ContractDescription {
  int con_id = 0;
  std::string symbol;
  std::string sec_type;
  std::string primary_exchange;
  std::string currency;
  std::vector<std::string> derivative_sec_types; // e.g. OPT, WAR, FUT
  std::string description;                       // the long name, e.g. "APPLE INC"
  std::string issuer_id;                         // empty except for bonds
  bool operator==(const ContractDescription&) const = default;
};
/// SYMBOL_SAMPLES (79): the answer to reqMatchingSymbols.
struct SymbolSamples {
  int req_id = 0;
  std::vector<ContractDescription> descriptions;
  bool operator==(const SymbolSamples&) const = default;
};
/// A known message id that we do not use (TICK_PRICE, MARKET_DATA_TYPE...).
struct OtherMessage {
  int msg_id = 0;
  bool operator==(const OtherMessage&) const = default;
};

using Message =
    std::variant<NextValidId, ManagedAccounts, ErrorMessage, ContractData, ContractDataEnd,
                 CurrentTime, TickByTickLast, TickByTickBidAsk, TickByTickMidPoint, TickByTickNone,
                 HistoricalTicks, HistoricalTicksBidAsk, HistoricalTicksLast, SymbolSamples,
                 OtherMessage>;

// ------------------------------------------------------------- handshake

/// "API\0" + framed "v<min>..<max>[ <options>]" (no trailing NUL).
std::string encode_handshake(int min_version, int max_version, std::string_view options = {});

struct HandshakeRequest {
  int min_version = 0;
  int max_version = 0;
  std::string options;
};
/// Parses the framed version-range text that follows "API\0".
std::optional<HandshakeRequest> parse_handshake_versions(std::string_view text);

struct ServerHello {
  int server_version = 0;
  std::string connection_time;
};
/// The server's answer: a frame with exactly two fields.
std::string encode_server_hello(int server_version, std::string_view connection_time);
/// Parses the server's answer payload. Rejects anything but two fields and a
/// positive version (a negative one would be a redirect, which we refuse).
std::optional<ServerHello> decode_server_hello(std::string_view payload, std::error_code& ec);

// ------------------------------------------------------------- encoders C→T

std::string encode(const StartApi& m, int server_version);
std::string encode(const ReqIds& m);
std::string encode(const ReqCurrentTime& m);
std::string encode(const ReqManagedAccts& m);
std::string encode(const ReqMarketDataType& m);
std::string encode(const ReqContractDetails& m, int server_version);
/// Requires server_version >= 137; below 140, numberOfTicks/ignoreSize are
/// left out (valid only for 0 / false).
std::string encode(const ReqTickByTickData& m, int server_version);
std::string encode(const CancelTickByTickData& m);
/// Always 22 fields (§10.2); the caller checks server_version >= 130.
std::string encode(const ReqHistoricalTicks& m);
/// Always 3 fields (§10.8); the caller checks server_version >= 108.
std::string encode(const ReqMatchingSymbols& m);

/// Decodes one client request payload (the simulator's side).
struct DecodedRequest {
  Request request;
  std::error_code error; // set when the payload is malformed
  int msg_id = 0;        // first field, when it parsed
};
DecodedRequest decode_request(std::string_view payload, int server_version);

// ------------------------------------------------------------- encoders T→C

std::string encode(const NextValidId& m);
std::string encode(const ManagedAccounts& m);
std::string encode(const ErrorMessage& m, int server_version);
std::string encode(const ContractData& m, int server_version);
std::string encode(const ContractDataEnd& m);
std::string encode(const CurrentTime& m);
std::string encode(const TickByTickLast& m);
std::string encode(const TickByTickBidAsk& m);
std::string encode(const TickByTickMidPoint& m);
std::string encode(const HistoricalTicks& m);
std::string encode(const HistoricalTicksBidAsk& m);
std::string encode(const HistoricalTicksLast& m);
/// description and issuerId per description only at server_version >= 176.
std::string encode(const SymbolSamples& m, int server_version);

/// Decodes one TWS message payload (the client's side).
struct DecodedMessage {
  Message message;
  std::error_code error;
  int msg_id = 0;
};
DecodedMessage decode_message(std::string_view payload, int server_version);

/// Writes the payload's fields as printable text ("99|6|3|...") for logs.
std::string printable_payload(std::string_view payload, std::size_t max_chars = 256);

} // namespace tws

// Typed messages (tws/messages.hpp): byte-exact encoders against the worked
// examples of tws-protocol.md §2-§4, the version-dependent layouts of
// CONTRACT_DATA, round trips at several server versions, and decoding of
// malformed or hostile payloads.
#include "tws/messages.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace std::string_literals;
using tws::WireError;

const std::vector<int> kVersions = {100, 110, 121, 122, 126, 134, 137, 140, 152,
                                    153, 163, 164, 166, 176, 179, 182, 186, 187};

std::string payload_of(const std::vector<std::string>& fields) {
  std::string out;
  for (const auto& f : fields) {
    out += f;
    out.push_back('\0');
  }
  return out;
}

/// The payload of a frame, after checking that its prefix is right.
std::string payload(const std::string& frame) {
  EXPECT_GE(frame.size(), 4u);
  const auto* p = reinterpret_cast<const unsigned char*>(frame.data());
  const std::size_t n = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) |
                        (std::size_t{p[2]} << 8) | std::size_t{p[3]};
  EXPECT_EQ(n, frame.size() - 4);
  return frame.substr(4);
}

std::vector<std::string> fields_of(const std::string& frame) {
  const std::string p = payload(frame);
  auto f = tws::split_fields(p);
  EXPECT_TRUE(f.has_value());
  if (!f) return {};
  return {f->begin(), f->end()};
}

template <class T> T decoded_as(const std::string& frame, int version) {
  auto d = tws::decode_message(payload(frame), version);
  EXPECT_FALSE(d.error) << d.error.message();
  EXPECT_TRUE(std::holds_alternative<T>(d.message));
  if (!std::holds_alternative<T>(d.message)) return T{};
  return std::get<T>(d.message);
}

template <class T> T request_as(const std::string& frame, int version) {
  auto d = tws::decode_request(payload(frame), version);
  EXPECT_FALSE(d.error) << d.error.message();
  EXPECT_TRUE(std::holds_alternative<T>(d.request));
  if (!std::holds_alternative<T>(d.request)) return T{};
  return std::get<T>(d.request);
}

tws::Contract aapl_smart() {
  tws::Contract c;
  c.symbol = "AAPL";
  c.sec_type = "STK";
  c.exchange = "SMART";
  c.primary_exchange = "NASDAQ";
  c.currency = "USD";
  return c;
}

// ============================================================ handshake §2.1

TEST(Handshake, DefaultVersionRange) {
  EXPECT_EQ(tws::encode_handshake(100, 187), "API\0"
                                             "\x00\x00\x00\x09"
                                             "v100..187"s);
}

TEST(Handshake, WithPaceApiOption) {
  const std::string h = tws::encode_handshake(100, 187, "+PACEAPI");
  EXPECT_EQ(h, "API\0"
               "\x00\x00\x00\x12"
               "v100..187 +PACEAPI"s);
  EXPECT_EQ(h.size(), 4u + 4u + 0x12u);
}

TEST(Handshake, SingleVersionHasNoRange) {
  EXPECT_EQ(tws::encode_handshake(187, 187), "API\0"
                                             "\x00\x00\x00\x04"
                                             "v187"s);
}

TEST(Handshake, ParseVersionRange) {
  auto h = tws::parse_handshake_versions("v100..187");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->min_version, 100);
  EXPECT_EQ(h->max_version, 187);
  EXPECT_EQ(h->options, "");
}

TEST(Handshake, ParseWithOptions) {
  auto h = tws::parse_handshake_versions("v100..187 +PACEAPI");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->min_version, 100);
  EXPECT_EQ(h->max_version, 187);
  EXPECT_EQ(h->options, "+PACEAPI");
}

TEST(Handshake, ParseSingleVersion) {
  auto h = tws::parse_handshake_versions("v100");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->min_version, 100);
  EXPECT_EQ(h->max_version, 100);
  auto h2 = tws::parse_handshake_versions("v187 +PACEAPI");
  ASSERT_TRUE(h2.has_value());
  EXPECT_EQ(h2->min_version, 187);
  EXPECT_EQ(h2->max_version, 187);
  EXPECT_EQ(h2->options, "+PACEAPI");
}

TEST(Handshake, ParseRejectsGarbage) {
  for (const char* s : {"", "v", "garbage", "100..187", "V100..187", "v187..100", "v100..",
                        "v..187", "vabc..187", "v100...187", "v100..187x", "v-1..187", "v+100..187",
                        "v1234567890..1234567891", "v100.187", "API"}) {
    EXPECT_FALSE(tws::parse_handshake_versions(s).has_value()) << s;
  }
}

TEST(Handshake, RoundTripThroughFrame) {
  const std::string h = tws::encode_handshake(100, 187, "+PACEAPI");
  ASSERT_EQ(h.substr(0, 4), "API\0"s);
  auto r = tws::parse_handshake_versions(payload(h.substr(4)));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->options, "+PACEAPI");
}

TEST(ServerHello, WorkedExample) {
  EXPECT_EQ(tws::encode_server_hello(187, "20240120 10:15:30 EST"), "\x00\x00\x00\x1A"
                                                                    "187\0"
                                                                    "20240120 10:15:30 EST\0"s);
}

TEST(ServerHello, Decodes) {
  std::error_code ec = WireError::bad_value;
  auto h = tws::decode_server_hello("187\0"
                                    "20240120 10:15:30 EST\0"s,
                                    ec);
  ASSERT_TRUE(h.has_value());
  EXPECT_FALSE(ec);
  EXPECT_EQ(h->server_version, 187);
  EXPECT_EQ(h->connection_time, "20240120 10:15:30 EST");
}

TEST(ServerHello, RejectsWrongFieldCountsAndVersions) {
  const std::vector<std::string> bad = {
      ""s,
      "187\0"s, // 1 field
      "187\0"
      "20240120 10:15:30 EST\0"
      "x\0"s, // 3 fields
      "-1\0"
      "host:4001\0"s, // redirect
      "0\0"
      "t\0"s, // zero
      "abc\0"
      "t\0"s, // not a number
      "187.0\0"
      "t\0"s, // not an integer
      "187\0"
      "20240120 10:15:30 EST"s, // no final NUL
  };
  for (const auto& p : bad) {
    std::error_code ec;
    EXPECT_FALSE(tws::decode_server_hello(p, ec).has_value()) << tws::printable_payload(p);
    EXPECT_EQ(ec, WireError::bad_handshake) << tws::printable_payload(p);
  }
}

// ============================================================ requests §3

TEST(Requests, StartApiClientId7) {
  const std::string expected = "\x00\x00\x00\x08"
                               "71\0"
                               "2\0"
                               "7\0"
                               "\0"s;
  EXPECT_EQ(tws::encode(tws::StartApi{7, ""}, 187), expected);
  EXPECT_EQ(tws::encode(tws::StartApi{7, ""}, 100), expected); // >= 72 at every supported version
  EXPECT_EQ(tws::encode(tws::StartApi{7, "cap"}, 187), "\x00\x00\x00\x0B"
                                                       "71\0"
                                                       "2\0"
                                                       "7\0"
                                                       "cap\0"s);
}

TEST(Requests, ReqIds) {
  EXPECT_EQ(tws::encode(tws::ReqIds{-1}), "\x00\x00\x00\x07"
                                          "8\0"
                                          "1\0"
                                          "-1\0"s);
  EXPECT_EQ(tws::encode(tws::ReqIds{1}), "\x00\x00\x00\x06"
                                         "8\0"
                                         "1\0"
                                         "1\0"s);
}

TEST(Requests, ReqCurrentTime) {
  EXPECT_EQ(tws::encode(tws::ReqCurrentTime{}), "\x00\x00\x00\x05"
                                                "49\0"
                                                "1\0"s);
}

TEST(Requests, ReqMarketDataType) {
  EXPECT_EQ(tws::encode(tws::ReqMarketDataType{3}), "\x00\x00\x00\x07"
                                                    "59\0"
                                                    "1\0"
                                                    "3\0"s);
}

TEST(Requests, ReqManagedAccts) {
  EXPECT_EQ(tws::encode(tws::ReqManagedAccts{}), "\x00\x00\x00\x05"
                                                 "17\0"
                                                 "1\0"s);
}

TEST(Requests, ReqContractDetailsWorkedExample) {
  tws::ReqContractDetails m;
  m.req_id = 1001;
  m.contract.con_id = 265598;
  m.contract.exchange = "SMART";
  const std::string expected = "\x00\x00\x00\x28" // N = 40
                               "9\0"
                               "8\0"
                               "1001\0"
                               "265598\0"
                               "\0"
                               "\0"
                               "\0"
                               "0.0\0"
                               "\0"
                               "\0"
                               "SMART\0"
                               "\0"
                               "\0"
                               "\0"
                               "\0"
                               "0\0"
                               "\0"
                               "\0"
                               "\0"s;
  EXPECT_EQ(tws::encode(m, 187), expected);
  EXPECT_EQ(tws::encode(m, 176), expected);
  // Below BOND_ISSUERID (176) there is no issuerId field.
  const std::string before_issuer = tws::encode(m, 175);
  EXPECT_EQ(payload(before_issuer), payload(expected).substr(0, 39));
  EXPECT_EQ(tws::encode(m, 100), before_issuer);
}

TEST(Requests, ReqContractDetailsAllFields) {
  tws::ReqContractDetails m;
  m.req_id = 5;
  m.contract.con_id = 1;
  m.contract.symbol = "ES";
  m.contract.sec_type = "FUT";
  m.contract.last_trade_date_or_contract_month = "202603";
  m.contract.strike = 4500.5;
  m.contract.right = "C";
  m.contract.multiplier = "50";
  m.contract.exchange = "CME";
  m.contract.primary_exchange = "GLOBEX";
  m.contract.currency = "USD";
  m.contract.local_symbol = "ESH6";
  m.contract.trading_class = "ES";
  m.contract.include_expired = true;
  m.contract.sec_id_type = "ISIN";
  m.contract.sec_id = "X";
  m.contract.issuer_id = "I1";
  EXPECT_EQ(
      fields_of(tws::encode(m, 187)),
      (std::vector<std::string>{"9", "8", "5", "1", "ES", "FUT", "202603", "4500.5", "C", "50",
                                "CME", "GLOBEX", "USD", "ESH6", "ES", "1", "ISIN", "X", "I1"}));
}

TEST(Requests, ReqTickByTickDataWorkedExample) {
  tws::ReqTickByTickData m;
  m.req_id = 6;
  m.contract = aapl_smart();
  m.tick_type = "BidAsk";
  const std::string expected = "\x00\x00\x00\x35" // N = 53
                               "97\0"
                               "6\0"
                               "0\0"
                               "AAPL\0"
                               "STK\0"
                               "\0"
                               "0.0\0"
                               "\0"
                               "\0"
                               "SMART\0"
                               "NASDAQ\0"
                               "USD\0"
                               "\0"
                               "\0"
                               "BidAsk\0"
                               "0\0"
                               "0\0"s;
  EXPECT_EQ(tws::encode(m, 187), expected);
  EXPECT_EQ(tws::encode(m, 140), expected);
  // 137..139: C++ sends it without numberOfTicks / ignoreSize.
  EXPECT_EQ(payload(tws::encode(m, 139)), payload(expected).substr(0, 53 - 4));
  EXPECT_EQ(tws::encode(m, 137), tws::encode(m, 139));
}

TEST(Requests, ReqTickByTickDataWithTicksAndIgnoreSize) {
  tws::ReqTickByTickData m;
  m.req_id = 9;
  m.contract.con_id = 265598;
  m.tick_type = "Last";
  m.number_of_ticks = 1000;
  m.ignore_size = true;
  auto f = fields_of(tws::encode(m, 187));
  ASSERT_EQ(f.size(), 17u);
  EXPECT_EQ(f[0], "97");
  EXPECT_EQ(f[2], "265598");
  EXPECT_EQ(f[14], "Last");
  EXPECT_EQ(f[15], "1000");
  EXPECT_EQ(f[16], "1");
}

TEST(Requests, CancelTickByTickData) {
  EXPECT_EQ(tws::encode(tws::CancelTickByTickData{6}), "\x00\x00\x00\x05"
                                                       "98\0"
                                                       "6\0"s);
}

TEST(Requests, DecodeReqMktDataExampleAsOther) {
  // §3.6 verified bytes (N = 55): recognised, not acted on.
  const std::string p = "1\0"
                        "11\0"
                        "5\0"
                        "0\0"
                        "AAPL\0"
                        "STK\0"
                        "\0"
                        "0.0\0"
                        "\0"
                        "\0"
                        "SMART\0"
                        "NASDAQ\0"
                        "USD\0"
                        "\0"
                        "\0"
                        "0\0"
                        "233\0"
                        "0\0"
                        "0\0"
                        "\0"s;
  ASSERT_EQ(p.size(), 55u);
  auto d = tws::decode_request(p, 187);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.msg_id, 1);
  ASSERT_TRUE(std::holds_alternative<tws::OtherRequest>(d.request));
  EXPECT_EQ(std::get<tws::OtherRequest>(d.request).msg_id, 1);
}

TEST(Requests, DecodeCancelMktDataAndCancelHistoricalDataAsOther) {
  for (int id : {1, 2, 25, 83, 87, 90, 91}) {
    auto d = tws::decode_request(payload_of({std::to_string(id), "2", "5"}), 187);
    EXPECT_FALSE(d.error) << id;
    ASSERT_TRUE(std::holds_alternative<tws::OtherRequest>(d.request)) << id;
    EXPECT_EQ(std::get<tws::OtherRequest>(d.request).msg_id, id);
  }
}

TEST(Requests, DecodeStartApiWithoutCapabilitiesField) {
  // Older clients may leave out the optional capabilities field.
  auto d = tws::decode_request(payload_of({"71", "2", "7"}), 187);
  EXPECT_FALSE(d.error);
  ASSERT_TRUE(std::holds_alternative<tws::StartApi>(d.request));
  EXPECT_EQ(std::get<tws::StartApi>(d.request), (tws::StartApi{7, ""}));
}

TEST(Requests, DecodeCppStyleStrike) {
  // C++ clients write strike with %.10g: "0" rather than "0.0".
  auto d = tws::decode_request(payload_of({"97", "6", "0", "AAPL", "STK", "", "0", "", "", "SMART",
                                           "NASDAQ", "USD", "", "", "Last", "0", "0"}),
                               187);
  EXPECT_FALSE(d.error);
  ASSERT_TRUE(std::holds_alternative<tws::ReqTickByTickData>(d.request));
  EXPECT_EQ(std::get<tws::ReqTickByTickData>(d.request).tick_type, "Last");
}

// ============================================================ messages §4

TEST(Messages, NextValidId) {
  const std::string f = tws::encode(tws::NextValidId{1});
  EXPECT_EQ(f, "\x00\x00\x00\x06"
               "9\0"
               "1\0"
               "1\0"s);
  EXPECT_EQ(decoded_as<tws::NextValidId>(f, 187).order_id, 1);
}

TEST(Messages, ManagedAccounts) {
  const std::string f = tws::encode(tws::ManagedAccounts{"DU1234567"});
  EXPECT_EQ(f, "\x00\x00\x00\x0F"
               "15\0"
               "1\0"
               "DU1234567\0"s);
  EXPECT_EQ(decoded_as<tws::ManagedAccounts>(f, 187).accounts, "DU1234567");
  EXPECT_EQ(
      decoded_as<tws::ManagedAccounts>(tws::encode(tws::ManagedAccounts{"DU1,DU2"}), 100).accounts,
      "DU1,DU2");
}

TEST(Messages, ErrorMessageAt187) {
  const tws::ErrorMessage m{-1, 2104, "Market data farm connection is OK:usfarm", ""};
  const std::string f = tws::encode(m, 187);
  EXPECT_EQ(payload(f), "4\0"
                        "2\0"
                        "-1\0"
                        "2104\0"
                        "Market data farm connection is OK:usfarm\0"
                        "\0"s);
  EXPECT_EQ(decoded_as<tws::ErrorMessage>(f, 187), m);
  EXPECT_EQ(tws::encode(m, 166), f);
}

TEST(Messages, ErrorMessageBelow166HasNoRejectJson) {
  const tws::ErrorMessage m{1001, 200, "No security definition has been found for the request", ""};
  const std::string f = tws::encode(m, 165);
  EXPECT_EQ(payload(f), "4\0"
                        "2\0"
                        "1001\0"
                        "200\0"
                        "No security definition has been found for the request\0"s);
  EXPECT_EQ(tws::encode(m, 100), f);
  EXPECT_EQ(decoded_as<tws::ErrorMessage>(f, 165), m);
  // A 187 decoder tolerates the missing trailing field.
  EXPECT_EQ(decoded_as<tws::ErrorMessage>(f, 187), m);
}

TEST(Messages, ErrorMessageRejectJsonRoundTrip) {
  const tws::ErrorMessage m{7, 201, "Order rejected", "{\"reason\":\"x\"}"};
  EXPECT_EQ(decoded_as<tws::ErrorMessage>(tws::encode(m, 187), 187), m);
  // Below 166 the field is not on the wire.
  EXPECT_EQ(decoded_as<tws::ErrorMessage>(tws::encode(m, 165), 165),
            (tws::ErrorMessage{7, 201, "Order rejected", ""}));
}

TEST(Messages, ContractDataEnd) {
  const std::string f = tws::encode(tws::ContractDataEnd{1001});
  EXPECT_EQ(payload(f), "52\0"
                        "1\0"
                        "1001\0"s);
  EXPECT_EQ(decoded_as<tws::ContractDataEnd>(f, 187).req_id, 1001);
}

TEST(Messages, CurrentTime) {
  const std::string f = tws::encode(tws::CurrentTime{1700000000});
  EXPECT_EQ(payload(f), "49\0"
                        "1\0"
                        "1700000000\0"s);
  EXPECT_EQ(decoded_as<tws::CurrentTime>(f, 187).time, 1700000000);
}

// ------------------------------------------------------------ TICK_BY_TICK §4.6

TEST(TickByTick, LastExample) {
  tws::TickByTickLast m;
  m.req_id = 6;
  m.type = tws::TickType::last;
  m.time = 1700000000;
  m.price = 189.5;
  m.size = 100.0;
  m.exchange = "NASDAQ";
  const std::string f = tws::encode(m);
  EXPECT_EQ(f, "\x00\x00\x00\x26"
               "99\0"
               "6\0"
               "1\0"
               "1700000000\0"
               "189.5\0"
               "100\0"
               "0\0"
               "NASDAQ\0"
               "\0"s);
  EXPECT_EQ(decoded_as<tws::TickByTickLast>(f, 187), m);
}

TEST(TickByTick, AllLastWithConditions) {
  tws::TickByTickLast m;
  m.req_id = 7;
  m.type = tws::TickType::all_last;
  m.time = 1700000001;
  m.price = 175.25;
  m.size = 0.5;
  m.exchange = "ARCA";
  m.special_conditions = "T I";
  const std::string f = tws::encode(m);
  EXPECT_EQ(payload(f), "99\0"
                        "7\0"
                        "2\0"
                        "1700000001\0"
                        "175.25\0"
                        "0.5\0"
                        "0\0"
                        "ARCA\0"
                        "T I\0"s);
  EXPECT_EQ(decoded_as<tws::TickByTickLast>(f, 187), m);
}

TEST(TickByTick, BidAskExample) {
  tws::TickByTickBidAsk m;
  m.req_id = 6;
  m.time = 1700000000;
  m.bid_price = 189.4;
  m.ask_price = 189.6;
  m.bid_size = 300.0;
  m.ask_size = 200.0;
  const std::string f = tws::encode(m);
  EXPECT_EQ(f, "\x00\x00\x00\x28"
               "99\0"
               "6\0"
               "3\0"
               "1700000000\0"
               "189.4\0"
               "189.6\0"
               "300\0"
               "200\0"
               "0\0"s);
  EXPECT_EQ(decoded_as<tws::TickByTickBidAsk>(f, 187), m);
}

TEST(TickByTick, MidPointExample) {
  const tws::TickByTickMidPoint m{6, 1700000000, 189.5};
  const std::string f = tws::encode(m);
  EXPECT_EQ(f, "\x00\x00\x00\x18"
               "99\0"
               "6\0"
               "4\0"
               "1700000000\0"
               "189.5\0"s);
  EXPECT_EQ(decoded_as<tws::TickByTickMidPoint>(f, 187), m);
}

TEST(TickByTick, LastAttributeBitsDecode) {
  struct Case {
    const char* mask;
    bool past_limit;
    bool unreported;
  };
  for (const Case& c : {Case{"0", false, false}, Case{"1", true, false}, Case{"2", false, true},
                        Case{"3", true, true}}) {
    const std::string p =
        payload_of({"99", "6", "1", "1700000000", "189.5", "100", c.mask, "NASDAQ", ""});
    auto d = tws::decode_message(p, 187);
    ASSERT_FALSE(d.error);
    const auto& m = std::get<tws::TickByTickLast>(d.message);
    EXPECT_EQ(m.past_limit, c.past_limit) << c.mask;
    EXPECT_EQ(m.unreported, c.unreported) << c.mask;
  }
}

TEST(TickByTick, LastAttributeBitsEncode) {
  tws::TickByTickLast m;
  m.past_limit = true;
  EXPECT_EQ(fields_of(tws::encode(m))[6], "1");
  m.past_limit = false;
  m.unreported = true;
  EXPECT_EQ(fields_of(tws::encode(m))[6], "2");
  m.past_limit = true;
  EXPECT_EQ(fields_of(tws::encode(m))[6], "3");
}

TEST(TickByTick, BidAskAttributeBitsDecode) {
  struct Case {
    const char* mask;
    bool bid_past_low;
    bool ask_past_high;
  };
  for (const Case& c : {Case{"0", false, false}, Case{"1", true, false}, Case{"2", false, true},
                        Case{"3", true, true}}) {
    const std::string p =
        payload_of({"99", "6", "3", "1700000000", "189.4", "189.6", "300", "200", c.mask});
    auto d = tws::decode_message(p, 187);
    ASSERT_FALSE(d.error);
    const auto& m = std::get<tws::TickByTickBidAsk>(d.message);
    EXPECT_EQ(m.bid_past_low, c.bid_past_low) << c.mask;
    EXPECT_EQ(m.ask_past_high, c.ask_past_high) << c.mask;
  }
}

TEST(TickByTick, BidAskAttributeBitsEncode) {
  tws::TickByTickBidAsk m;
  m.bid_past_low = true;
  EXPECT_EQ(fields_of(tws::encode(m))[8], "1");
  m.bid_past_low = false;
  m.ask_past_high = true;
  EXPECT_EQ(fields_of(tws::encode(m))[8], "2");
  m.bid_past_low = true;
  EXPECT_EQ(fields_of(tws::encode(m))[8], "3");
}

TEST(TickByTick, TickTypeZeroIsNone) {
  for (const auto& p : {payload_of({"99", "6", "0"}), payload_of({"99", "6", "0", "1700000000"})}) {
    auto d = tws::decode_message(p, 187);
    EXPECT_FALSE(d.error);
    EXPECT_EQ(d.msg_id, 99);
    ASSERT_TRUE(std::holds_alternative<tws::TickByTickNone>(d.message));
    EXPECT_EQ(std::get<tws::TickByTickNone>(d.message).req_id, 6);
  }
}

TEST(TickByTick, UnknownTickTypeIsBadValue) {
  auto d = tws::decode_message(payload_of({"99", "6", "5", "1700000000", "1"}), 187);
  EXPECT_EQ(d.error, WireError::bad_value);
  d = tws::decode_message(payload_of({"99", "6", "-1", "1700000000", "1"}), 187);
  EXPECT_EQ(d.error, WireError::bad_value);
}

TEST(TickByTick, UnsetSizesEncodeEmptyAndDecodeUnset) {
  tws::TickByTickBidAsk m;
  m.req_id = 1;
  m.time = 2;
  m.bid_price = -1;
  m.ask_price = 10;
  const std::string f = tws::encode(m);
  EXPECT_EQ(payload(f), payload_of({"99", "1", "3", "2", "-1", "10", "", "", "0"}));
  EXPECT_EQ(decoded_as<tws::TickByTickBidAsk>(f, 187), m);
}

TEST(TickByTick, UnsetDecimalLiteralsDecodeAsUnset) {
  for (const char* lit : {"", "2147483647", "9223372036854775807", "1.7976931348623157E308"}) {
    auto d = tws::decode_message(
        payload_of({"99", "6", "1", "1700000000", "189.5", lit, "0", "NASDAQ", ""}), 187);
    ASSERT_FALSE(d.error) << lit;
    EXPECT_EQ(std::get<tws::TickByTickLast>(d.message).size, std::nullopt) << lit;
    d = tws::decode_message(
        payload_of({"99", "6", "3", "1700000000", "189.4", "189.6", lit, lit, "0"}), 187);
    ASSERT_FALSE(d.error) << lit;
    EXPECT_EQ(std::get<tws::TickByTickBidAsk>(d.message).bid_size, std::nullopt) << lit;
    EXPECT_EQ(std::get<tws::TickByTickBidAsk>(d.message).ask_size, std::nullopt) << lit;
  }
}

TEST(TickByTick, InfinityAndScientificPrices) {
  auto d = tws::decode_message(payload_of({"99", "6", "4", "1700000000", "Infinity"}), 187);
  ASSERT_FALSE(d.error);
  EXPECT_EQ(std::get<tws::TickByTickMidPoint>(d.message).mid_point,
            std::numeric_limits<double>::infinity());
  d = tws::decode_message(payload_of({"99", "6", "4", "1700000000", "1.0E-4"}), 187);
  ASSERT_FALSE(d.error);
  EXPECT_EQ(std::get<tws::TickByTickMidPoint>(d.message).mid_point, 1.0e-4);
  d = tws::decode_message(
      payload_of({"99", "6", "3", "1700000000", "1.7976931348623157E308", "1.5E2", "1", "2", "0"}),
      187);
  ASSERT_FALSE(d.error);
  EXPECT_EQ(std::get<tws::TickByTickBidAsk>(d.message).bid_price,
            std::numeric_limits<double>::max());
  EXPECT_EQ(std::get<tws::TickByTickBidAsk>(d.message).ask_price, 150.0);
}

TEST(TickByTick, ExtraTrailingFieldsAreIgnored) {
  auto d = tws::decode_message(payload_of({"99", "6", "4", "1700000000", "189.5", "extra"}), 187);
  EXPECT_FALSE(d.error);
  EXPECT_EQ(std::get<tws::TickByTickMidPoint>(d.message).mid_point, 189.5);
}

// ============================================================ CONTRACT_DATA §4.4

tws::ContractData aapl_details() {
  tws::ContractData m;
  m.req_id = 1001;
  tws::ContractDetails& d = m.details;
  tws::Contract& c = d.contract;
  c.symbol = "AAPL";
  c.sec_type = "STK";
  c.exchange = "SMART";
  c.currency = "USD";
  c.local_symbol = "AAPL";
  c.trading_class = "NMS";
  c.con_id = 265598;
  c.primary_exchange = "NASDAQ";
  d.market_name = "NMS";
  d.min_tick = 0.01;
  d.order_types = "ACTIVETIM,AD,ALERT,ALGO,LMT,MKT";
  d.valid_exchanges = "SMART,AMEX,NYSE";
  d.price_magnifier = 1;
  d.long_name = "APPLE INC";
  d.industry = "Technology";
  d.category = "Computers";
  d.subcategory = "Computers";
  d.time_zone_id = "US/Eastern";
  d.trading_hours = "20260405:CLOSED;20260406:0400-20260406:2000";
  d.liquid_hours = "20260405:CLOSED;20260406:0930-20260406:1600";
  d.sec_ids = {{"ISIN", "US0378331005"}};
  d.agg_group = 1;
  d.market_rule_ids = "26,26,26";
  d.stock_type = "COMMON";
  d.min_size = 0.0001;
  d.size_increment = 0.0001;
  d.suggested_size_increment = 100.0;
  return m;
}

tws::ContractData fund_details() {
  tws::ContractData m;
  m.req_id = 42;
  m.details.contract.symbol = "VFIAX";
  m.details.contract.sec_type = "FUND";
  m.details.contract.exchange = "FUNDSERV";
  m.details.contract.currency = "USD";
  m.details.contract.con_id = 123;
  m.details.min_tick = 0.01;
  m.details.min_size = 0.001;
  m.details.size_increment = 0.001;
  m.details.suggested_size_increment = 1.0;
  m.details.fund = {
      "Vanguard 500", "Vanguard", "Index", "0",  "0", "",   "0.04", "0", "0", "0", "0",
      "3000",         "1",        "US",    "US", "N", "004"};
  m.details.ineligibility_reasons = {{"1", "Not for retail"}, {"2", "Region"}};
  return m;
}

/// What a decoder at `v` gives back for `m` (fields not on the wire at `v`
/// come back at their defaults).
tws::ContractData expected_at(tws::ContractData m, int v) {
  auto& d = m.details;
  if (v < tws::sv::kLastTradeDate) d.last_trade_date.clear();
  if (v < tws::sv::kAggGroup) d.agg_group = 0;
  if (v < tws::sv::kUnderlyingInfo) {
    d.under_symbol.clear();
    d.under_sec_type.clear();
  }
  if (v < tws::sv::kMarketRules) d.market_rule_ids.clear();
  if (v < tws::sv::kRealExpirationDate) d.real_expiration_date.clear();
  if (v < tws::sv::kStockType) d.stock_type.clear();
  if (v < tws::sv::kSizeRules) {
    d.min_size.reset();
    d.size_increment.reset();
    d.suggested_size_increment.reset();
  }
  if (v < tws::sv::kFundDataFields || d.contract.sec_type != "FUND") d.fund.clear();
  if (v < tws::sv::kIneligibilityReasons) d.ineligibility_reasons.clear();
  return m;
}

TEST(ContractData, FieldCountAt187Is42Plus2KPlus2M) {
  auto m = aapl_details();
  EXPECT_EQ(fields_of(tws::encode(m, 187)).size(), 44u); // K = 1, M = 0
  m.details.sec_ids.clear();
  EXPECT_EQ(fields_of(tws::encode(m, 187)).size(), 42u);
  m.details.sec_ids = {{"ISIN", "US0378331005"}, {"CUSIP", "037833100"}};
  m.details.ineligibility_reasons = {{"a", "b"}, {"c", "d"}, {"e", "f"}};
  EXPECT_EQ(fields_of(tws::encode(m, 187)).size(), 42u + 4u + 6u);
}

TEST(ContractData, Layout187MatchesRecordedTail) {
  const auto f = fields_of(tws::encode(aapl_details(), 187));
  ASSERT_EQ(f.size(), 44u);
  const std::vector<std::string> head = {"10",    "1001", "AAPL", "STK", "",    "",       "0",   "",
                                         "SMART", "USD",  "AAPL", "NMS", "NMS", "265598", "0.01"};
  EXPECT_EQ(std::vector<std::string>(f.begin(), f.begin() + 15), head);
  const std::vector<std::string> middle = {"",
                                           "ACTIVETIM,AD,ALERT,ALGO,LMT,MKT",
                                           "SMART,AMEX,NYSE",
                                           "1",
                                           "0",
                                           "APPLE INC",
                                           "NASDAQ",
                                           "",
                                           "Technology",
                                           "Computers",
                                           "Computers",
                                           "US/Eastern",
                                           "20260405:CLOSED;20260406:0400-20260406:2000",
                                           "20260405:CLOSED;20260406:0930-20260406:1600"};
  EXPECT_EQ(std::vector<std::string>(f.begin() + 15, f.begin() + 29), middle);
  // §4.4: liquidHours, "", "", 1, ISIN, US0378331005, 1, "", "", 26,26,..., "", COMMON,
  // 0.0001, 0.0001, 100, 0
  const std::vector<std::string> tail = {"",       "",       "1",      "ISIN",     "US0378331005",
                                         "1",      "",       "",       "26,26,26", "",
                                         "COMMON", "0.0001", "0.0001", "100",      "0"};
  EXPECT_EQ(std::vector<std::string>(f.begin() + 29, f.end()), tail);
}

TEST(ContractData, FieldCountPerVersion) {
  // Non-FUND contract with K = 1 security id and M = 0 ineligibility reasons.
  const std::vector<std::pair<int, std::size_t>> expected = {
      {100, 34}, {110, 35}, {121, 36}, {122, 38}, {126, 39}, {134, 40}, {140, 40}, {152, 41},
      {163, 42}, {164, 42}, {176, 42}, {179, 42}, {182, 43}, {186, 44}, {187, 44}};
  for (auto [v, n] : expected) {
    EXPECT_EQ(fields_of(tws::encode(aapl_details(), v)).size(), n) << "server " << v;
  }
}

TEST(ContractData, Layout100HasVersionAndNoLaterFields) {
  const auto f = fields_of(tws::encode(aapl_details(), 100));
  ASSERT_EQ(f.size(), 34u);
  EXPECT_EQ(f[0], "10");
  EXPECT_EQ(f[1], "8"); // version field below 164
  EXPECT_EQ(f[2], "1001");
  EXPECT_EQ(f[3], "AAPL");
  EXPECT_EQ(f[6], "0");     // strike (no lastTradeDate below 182)
  EXPECT_EQ(f[14], "0.01"); // minTick
  EXPECT_EQ(f[15], "");     // multiplier (no mdSizeMultiplier below 110)
  EXPECT_EQ(f[31], "1");    // secIdListCount
  EXPECT_EQ(f[33], "US0378331005");
}

TEST(ContractData, Layout110AddsMdSizeMultiplier) {
  const auto f = fields_of(tws::encode(aapl_details(), 110));
  ASSERT_EQ(f.size(), 35u);
  EXPECT_EQ(f[14], "0.01"); // minTick
  EXPECT_EQ(f[15], "1");    // mdSizeMultiplier (ignored by decoders)
  EXPECT_EQ(f[16], "");     // multiplier
  EXPECT_EQ(f[17], "ACTIVETIM,AD,ALERT,ALGO,LMT,MKT");
}

TEST(ContractData, Layout121AddsAggGroup) {
  const auto f = fields_of(tws::encode(aapl_details(), 121));
  ASSERT_EQ(f.size(), 36u);
  EXPECT_EQ(f[34], "US0378331005");
  EXPECT_EQ(f[35], "1"); // aggGroup
}

TEST(ContractData, Layout140) {
  const auto f = fields_of(tws::encode(aapl_details(), 140));
  ASSERT_EQ(f.size(), 40u);
  EXPECT_EQ(std::vector<std::string>(f.begin() + 35, f.end()),
            (std::vector<std::string>{"1", "", "", "26,26,26", ""}));
}

TEST(ContractData, Layout152AddsStockType) {
  const auto f = fields_of(tws::encode(aapl_details(), 152));
  ASSERT_EQ(f.size(), 41u);
  EXPECT_EQ(f[40], "COMMON");
}

TEST(ContractData, Layout163AddsSizeMinTick) {
  const auto f = fields_of(tws::encode(aapl_details(), 163));
  ASSERT_EQ(f.size(), 42u);
  EXPECT_EQ(f[1], "8");
  EXPECT_EQ(f[15], "1"); // mdSizeMultiplier still there
  EXPECT_EQ(f[40], "COMMON");
  EXPECT_EQ(f[41], "0.0001"); // sizeMinTick
}

TEST(ContractData, Layout164DropsVersionAndMdSizeMultiplier) {
  const auto f = fields_of(tws::encode(aapl_details(), 164));
  ASSERT_EQ(f.size(), 42u);
  EXPECT_EQ(f[0], "10");
  EXPECT_EQ(f[1], "1001"); // reqId right after the id
  EXPECT_EQ(f[13], "0.01");
  EXPECT_EQ(f[14], ""); // multiplier
  EXPECT_EQ(std::vector<std::string>(f.begin() + 38, f.end()),
            (std::vector<std::string>{"COMMON", "0.0001", "0.0001", "100"}));
}

TEST(ContractData, Layout176SameAs164) {
  EXPECT_EQ(tws::encode(aapl_details(), 176), tws::encode(aapl_details(), 164));
}

TEST(ContractData, Layout179FundBlockOnlyForFunds) {
  const auto stk = fields_of(tws::encode(aapl_details(), 179));
  EXPECT_EQ(stk.size(), 42u);
  const auto fund = fund_details(); // K = 0
  const auto f = fields_of(tws::encode(fund, 179));
  ASSERT_EQ(f.size(), 40u + 17u);
  EXPECT_EQ(f[39], "1"); // suggestedSizeIncrement, then the block
  EXPECT_EQ(std::vector<std::string>(f.begin() + 40, f.end()), fund.details.fund);
  // 178: no FUND block even for funds.
  EXPECT_EQ(fields_of(tws::encode(fund, 178)).size(), 40u);
  EXPECT_EQ(decoded_as<tws::ContractData>(tws::encode(fund, 179), 179), expected_at(fund, 179));
}

TEST(ContractData, FundBlockIsPaddedTo17Fields) {
  auto fund = fund_details();
  fund.details.fund = {"Only name"};
  const auto f = fields_of(tws::encode(fund, 187));
  ASSERT_EQ(f.size(), 42u + 17u + 2u * 2u);
  EXPECT_EQ(f[41], "Only name"); // K = 0; lastTradeDate (182) moves the block one later
  const auto back = decoded_as<tws::ContractData>(tws::encode(fund, 187), 187);
  ASSERT_EQ(back.details.fund.size(), 17u);
  EXPECT_EQ(back.details.fund[0], "Only name");
  EXPECT_EQ(back.details.fund[16], "");
}

TEST(ContractData, Layout182AddsLastTradeDate) {
  auto m = aapl_details();
  m.details.contract.sec_type = "FUT";
  m.details.contract.last_trade_date_or_contract_month = "20260320";
  m.details.last_trade_time = "08:30:00";
  m.details.last_trade_date = "20260320";
  const auto f = fields_of(tws::encode(m, 182));
  ASSERT_EQ(f.size(), 43u);
  EXPECT_EQ(f[4], "20260320 08:30:00");
  EXPECT_EQ(f[5], "20260320");
  EXPECT_EQ(f[6], "0"); // strike
  const auto f181 = fields_of(tws::encode(m, 181));
  ASSERT_EQ(f181.size(), 42u);
  EXPECT_EQ(f181[5], "0");
}

TEST(ContractData, Layout186AddsIneligibilityReasons) {
  auto m = aapl_details();
  m.details.ineligibility_reasons = {{"r1", "Not allowed"}};
  const auto f = fields_of(tws::encode(m, 186));
  ASSERT_EQ(f.size(), 46u);
  EXPECT_EQ(std::vector<std::string>(f.end() - 3, f.end()),
            (std::vector<std::string>{"1", "r1", "Not allowed"}));
  EXPECT_EQ(fields_of(tws::encode(m, 185)).size(), 43u);
}

TEST(ContractData, DecodesRecordedStyleFrame) {
  // A 187 frame written field by field, the way TWS lays it out.
  const std::vector<std::string> fields = {"10",
                                           "1001",
                                           "AAPL",
                                           "STK",
                                           "",
                                           "",
                                           "0",
                                           "",
                                           "SMART",
                                           "USD",
                                           "AAPL",
                                           "NMS",
                                           "NMS",
                                           "265598",
                                           "0.01",
                                           "",
                                           "ACTIVETIM,AD",
                                           "SMART,AMEX",
                                           "1",
                                           "0",
                                           "APPLE INC",
                                           "NASDAQ",
                                           "",
                                           "Technology",
                                           "Computers",
                                           "Computers",
                                           "US/Eastern",
                                           "th",
                                           "lh",
                                           "",
                                           "",
                                           "1",
                                           "ISIN",
                                           "US0378331005",
                                           "2147483647",
                                           "",
                                           "",
                                           "26,26",
                                           "",
                                           "COMMON",
                                           "0.0001",
                                           "0.0001",
                                           "100",
                                           "0"};
  ASSERT_EQ(fields.size(), 44u);
  auto d = tws::decode_message(payload_of(fields), 187);
  ASSERT_FALSE(d.error) << d.error.message();
  const auto& m = std::get<tws::ContractData>(d.message);
  EXPECT_EQ(m.req_id, 1001);
  EXPECT_EQ(m.details.contract.con_id, 265598);
  EXPECT_EQ(m.details.contract.primary_exchange, "NASDAQ");
  EXPECT_EQ(m.details.long_name, "APPLE INC");
  EXPECT_EQ(m.details.ev_multiplier, 0);
  ASSERT_EQ(m.details.sec_ids.size(), 1u);
  EXPECT_EQ(m.details.sec_ids[0], (tws::TagValue{"ISIN", "US0378331005"}));
  EXPECT_EQ(m.details.agg_group, 2147483647);
  EXPECT_EQ(m.details.stock_type, "COMMON");
  EXPECT_EQ(m.details.min_size, tws::Decimal(0.0001));
  EXPECT_EQ(m.details.suggested_size_increment, tws::Decimal(100.0));
  EXPECT_TRUE(m.details.ineligibility_reasons.empty());
}

TEST(ContractData, LastTradeDateSplitting) {
  for (const char* ltd :
       {"20240119 16:00:00 US/Eastern", "20240119-16:00:00-US/Eastern", "20240119 16:00:00"}) {
    auto m = aapl_details();
    auto f = fields_of(tws::encode(m, 187));
    f[4] = ltd;
    auto d = tws::decode_message(payload_of(f), 187);
    ASSERT_FALSE(d.error);
    const auto& cd = std::get<tws::ContractData>(d.message);
    EXPECT_EQ(cd.details.contract.last_trade_date_or_contract_month, "20240119") << ltd;
    EXPECT_EQ(cd.details.last_trade_time, "16:00:00") << ltd;
  }
}

TEST(ContractData, RoundTripAtEveryGate) {
  auto rich = aapl_details();
  rich.details.contract.sec_type = "OPT";
  rich.details.contract.last_trade_date_or_contract_month = "20260320";
  rich.details.last_trade_time = "16:00:00";
  rich.details.last_trade_date = "20260320";
  rich.details.contract.strike = 175.5;
  rich.details.contract.right = "C";
  rich.details.contract.multiplier = "100";
  rich.details.under_con_id = 265598;
  rich.details.ev_rule = "aapl";
  rich.details.ev_multiplier = 100;
  rich.details.under_symbol = "AAPL";
  rich.details.under_sec_type = "STK";
  rich.details.real_expiration_date = "20260320";
  rich.details.sec_ids = {{"ISIN", "X1"}, {"CUSIP", "X2"}};
  rich.details.ineligibility_reasons = {{"1", "a"}, {"2", "b"}};
  for (const auto& m : {aapl_details(), rich, fund_details()}) {
    for (int v = tws::kMinServerVersion; v <= tws::kMaxServerVersion; ++v) {
      EXPECT_EQ(decoded_as<tws::ContractData>(tws::encode(m, v), v), expected_at(m, v))
          << "server " << v << " " << m.details.contract.sec_type;
    }
  }
}

TEST(ContractData, NegativeCountMeansNone) {
  auto f = fields_of(tws::encode(aapl_details(), 187));
  f[31] = "-5"; // secIdListCount
  f.erase(f.begin() + 32, f.begin() + 34);
  auto d = tws::decode_message(payload_of(f), 187);
  ASSERT_FALSE(d.error) << d.error.message();
  EXPECT_TRUE(std::get<tws::ContractData>(d.message).details.sec_ids.empty());
}

TEST(ContractData, HostileSecIdCountFailsWithoutAllocating) {
  auto f = fields_of(tws::encode(aapl_details(), 187));
  ASSERT_EQ(f[31], "1");
  for (const char* count : {"1000000000", "2147483647", "7"}) {
    f[31] = count;
    auto d = tws::decode_message(payload_of(f), 187);
    EXPECT_EQ(d.error, WireError::missing_field) << count;
    ASSERT_TRUE(std::holds_alternative<tws::ContractData>(d.message));
    EXPECT_EQ(std::get<tws::ContractData>(d.message).details.sec_ids.capacity(), 0u) << count;
  }
  f[31] = "99999999999";
  EXPECT_EQ(tws::decode_message(payload_of(f), 187).error, WireError::bad_integer);
}

TEST(ContractData, HostileIneligibilityCountFails) {
  auto f = fields_of(tws::encode(aapl_details(), 187));
  f.back() = "1000000000";
  auto d = tws::decode_message(payload_of(f), 187);
  EXPECT_EQ(d.error, WireError::missing_field);
  EXPECT_EQ(std::get<tws::ContractData>(d.message).details.ineligibility_reasons.capacity(), 0u);
}

// ============================================================ round trips

TEST(RoundTrip, RequestsAtSeveralVersions) {
  tws::ReqContractDetails rcd;
  rcd.req_id = 1001;
  rcd.contract = aapl_smart();
  rcd.contract.con_id = 265598;
  rcd.contract.strike = 0.25;
  rcd.contract.include_expired = true;
  rcd.contract.sec_id_type = "ISIN";
  rcd.contract.sec_id = "US0378331005";
  rcd.contract.issuer_id = "e1";
  tws::ReqTickByTickData rtt;
  rtt.req_id = 6;
  rtt.contract = aapl_smart();
  rtt.tick_type = "AllLast";
  rtt.number_of_ticks = 10;
  rtt.ignore_size = true;
  for (int v : kVersions) {
    EXPECT_EQ(request_as<tws::StartApi>(tws::encode(tws::StartApi{7, "x"}, v), v),
              (tws::StartApi{7, "x"}));
    EXPECT_EQ(request_as<tws::ReqIds>(tws::encode(tws::ReqIds{-1}), v).num_ids, -1);
    request_as<tws::ReqCurrentTime>(tws::encode(tws::ReqCurrentTime{}), v);
    request_as<tws::ReqManagedAccts>(tws::encode(tws::ReqManagedAccts{}), v);
    EXPECT_EQ(request_as<tws::ReqMarketDataType>(tws::encode(tws::ReqMarketDataType{4}), v)
                  .market_data_type,
              4);
    auto want_rcd = rcd;
    if (v < tws::sv::kBondIssuerId) want_rcd.contract.issuer_id.clear();
    EXPECT_EQ(request_as<tws::ReqContractDetails>(tws::encode(rcd, v), v), want_rcd) << v;
    if (v >= tws::sv::kTickByTick) {
      auto sent = rtt;
      if (v < tws::sv::kTickByTickIgnoreSize) {
        sent.number_of_ticks = 0;
        sent.ignore_size = false;
      }
      EXPECT_EQ(request_as<tws::ReqTickByTickData>(tws::encode(sent, v), v), sent) << v;
    }
    EXPECT_EQ(
        request_as<tws::CancelTickByTickData>(tws::encode(tws::CancelTickByTickData{6}), v).req_id,
        6);
  }
}

TEST(RoundTrip, MessagesAtSeveralVersions) {
  tws::TickByTickLast last;
  last.req_id = 3;
  last.type = tws::TickType::all_last;
  last.time = 1700000123;
  last.price = 0.1 + 0.2;
  last.size = 12.5;
  last.past_limit = true;
  last.exchange = "IEX";
  last.special_conditions = "F";
  tws::TickByTickBidAsk ba{4, 1700000124, 189.41, 189.43, 1.0, std::nullopt, false, true};
  tws::TickByTickMidPoint mp{5, 1700000125, 1e-05};
  for (int v : kVersions) {
    EXPECT_EQ(decoded_as<tws::NextValidId>(tws::encode(tws::NextValidId{42}), v).order_id, 42);
    EXPECT_EQ(
        decoded_as<tws::ManagedAccounts>(tws::encode(tws::ManagedAccounts{"DU1"}), v).accounts,
        "DU1");
    const tws::ErrorMessage err{5, 10189, "Failed to request tick-by-tick data.", ""};
    EXPECT_EQ(decoded_as<tws::ErrorMessage>(tws::encode(err, v), v), err) << v;
    EXPECT_EQ(decoded_as<tws::ContractDataEnd>(tws::encode(tws::ContractDataEnd{9}), v).req_id, 9);
    EXPECT_EQ(decoded_as<tws::CurrentTime>(tws::encode(tws::CurrentTime{1700000000}), v).time,
              1700000000);
    EXPECT_EQ(decoded_as<tws::TickByTickLast>(tws::encode(last), v), last);
    EXPECT_EQ(decoded_as<tws::TickByTickBidAsk>(tws::encode(ba), v), ba);
    EXPECT_EQ(decoded_as<tws::TickByTickMidPoint>(tws::encode(mp), v), mp);
  }
}

// ============================================================ robustness

/// Every valid frame the encoders produce, at server version v.
std::vector<std::string> sample_messages(int v) {
  tws::TickByTickLast last;
  last.req_id = 6;
  last.time = 1700000000;
  last.price = 189.5;
  last.size = 100.0;
  last.exchange = "NASDAQ";
  return {
      tws::encode(tws::NextValidId{1}),
      tws::encode(tws::ManagedAccounts{"DU1234567"}),
      tws::encode(tws::ErrorMessage{-1, 2104, "farm OK:usfarm", ""}, v),
      tws::encode(aapl_details(), v),
      tws::encode(fund_details(), v),
      tws::encode(tws::ContractDataEnd{1001}),
      tws::encode(tws::CurrentTime{1700000000}),
      tws::encode(last),
      tws::encode(tws::TickByTickBidAsk{6, 1700000000, 189.4, 189.6, 300.0, 200.0, true, false}),
      tws::encode(tws::TickByTickMidPoint{6, 1700000000, 189.5})};
}

std::vector<std::string> sample_requests(int v) {
  tws::ReqContractDetails rcd;
  rcd.req_id = 1001;
  rcd.contract.con_id = 265598;
  rcd.contract.exchange = "SMART";
  tws::ReqTickByTickData rtt;
  rtt.req_id = 6;
  rtt.contract = aapl_smart();
  rtt.tick_type = "BidAsk";
  std::vector<std::string> out = {
      tws::encode(tws::StartApi{7, ""}, v),     tws::encode(tws::ReqIds{-1}),
      tws::encode(tws::ReqCurrentTime{}),       tws::encode(tws::ReqManagedAccts{}),
      tws::encode(tws::ReqMarketDataType{3}),   tws::encode(rcd, v),
      tws::encode(tws::CancelTickByTickData{6})};
  if (v >= tws::sv::kTickByTick) out.push_back(tws::encode(rtt, v));
  return out;
}

TEST(Robustness, EveryPrefixOfEveryMessage) {
  for (int v : {100, 163, 164, 179, 187}) {
    for (const auto& frame : sample_messages(v)) {
      const std::string full = payload(frame);
      const auto whole = tws::decode_message(full, v);
      ASSERT_FALSE(whole.error) << v << " " << tws::printable_payload(full);
      for (std::size_t n = 0; n < full.size(); ++n) {
        const std::string_view p(full.data(), n);
        const auto d = tws::decode_message(p, v);
        if (n == 0 || full[n - 1] != '\0') {
          EXPECT_EQ(d.error, WireError::unterminated_payload) << tws::printable_payload(p);
        } else if (!d.error) {
          // A shorter, still valid message (e.g. ERR_MSG without its optional last field).
          EXPECT_EQ(d.msg_id, whole.msg_id) << tws::printable_payload(p);
          EXPECT_EQ(d.message.index(), whole.message.index()) << tws::printable_payload(p);
        }
      }
    }
  }
}

TEST(Robustness, TruncatedFixedLayoutsAreErrors) {
  // Messages without optional trailing fields: every field-boundary prefix fails.
  const std::vector<std::pair<std::string, int>> frames = {
      {tws::encode(tws::NextValidId{1}), 187},
      {tws::encode(tws::CurrentTime{5}), 187},
      {tws::encode(tws::TickByTickMidPoint{6, 1700000000, 189.5}), 187},
      {tws::encode(aapl_details(), 187), 187},
      {tws::encode(aapl_details(), 163), 163},
      {tws::encode(aapl_details(), 100), 100},
      {tws::encode(fund_details(), 187), 187}};
  for (const auto& [frame, v] : frames) {
    const std::string full = payload(frame);
    for (std::size_t n = 1; n < full.size(); ++n) {
      if (full[n - 1] != '\0') continue;
      const auto d = tws::decode_message(std::string_view(full.data(), n), v);
      EXPECT_EQ(d.error, WireError::missing_field) << tws::printable_payload(full.substr(0, n));
    }
  }
}

TEST(Robustness, EveryPrefixOfEveryRequest) {
  for (int v : {100, 137, 140, 176, 187}) {
    for (const auto& frame : sample_requests(v)) {
      const std::string full = payload(frame);
      const auto whole = tws::decode_request(full, v);
      ASSERT_FALSE(whole.error) << v << " " << tws::printable_payload(full);
      for (std::size_t n = 0; n < full.size(); ++n) {
        const std::string_view p(full.data(), n);
        const auto d = tws::decode_request(p, v);
        if (n == 0 || full[n - 1] != '\0') {
          EXPECT_EQ(d.error, WireError::unterminated_payload) << tws::printable_payload(p);
        } else if (!d.error) {
          EXPECT_EQ(d.msg_id, whole.msg_id) << tws::printable_payload(p);
          EXPECT_EQ(d.request.index(), whole.request.index()) << tws::printable_payload(p);
        }
      }
    }
  }
}

TEST(Robustness, MissingNulTerminator) {
  const std::string p = "9\0"
                        "1\0"
                        "5"s;
  EXPECT_EQ(tws::decode_message(p, 187).error, WireError::unterminated_payload);
  EXPECT_EQ(tws::decode_request("49\0"
                                "1"s,
                                187)
                .error,
            WireError::unterminated_payload);
  EXPECT_EQ(tws::decode_message("", 187).error, WireError::unterminated_payload);
  EXPECT_EQ(tws::decode_request("", 187).error, WireError::unterminated_payload);
}

TEST(Robustness, NonIntegerInIntField) {
  for (const char* bad : {"1.0", "abc", "", "1e3"}) {
    const auto d = tws::decode_message(payload_of({"9", "1", bad}), 187);
    if (std::string_view(bad).empty()) {
      EXPECT_FALSE(d.error); // empty int = 0, as every IB decoder reads it
      EXPECT_EQ(std::get<tws::NextValidId>(d.message).order_id, 0);
    } else {
      EXPECT_EQ(d.error, WireError::bad_integer) << bad;
    }
  }
  EXPECT_EQ(tws::decode_message(payload_of({"1.0"}), 187).error, WireError::bad_integer);
  EXPECT_EQ(tws::decode_message(payload_of({"abc", "1"}), 187).error, WireError::bad_integer);
  EXPECT_EQ(
      tws::decode_message(payload_of({"99", "6", "1", "1.0", "189.5", "1", "0", "X", ""}), 187)
          .error,
      WireError::bad_integer);
  EXPECT_EQ(tws::decode_message(
                payload_of({"99", "6", "1", "1700000000", "189.5", "1", "abc", "X", ""}), 187)
                .error,
            WireError::bad_integer);
  EXPECT_EQ(tws::decode_request(payload_of({"71", "2", "seven", ""}), 187).error,
            WireError::bad_integer);
  EXPECT_EQ(tws::decode_request(payload_of({"97", "6", "1.5", "AAPL", "STK", "", "0", "", "",
                                            "SMART", "", "USD", "", "", "Last", "0", "0"}),
                                187)
                .error,
            WireError::bad_integer);
}

TEST(Robustness, BadDouble) {
  EXPECT_EQ(tws::decode_message(payload_of({"99", "6", "4", "1700000000", "abc"}), 187).error,
            WireError::bad_double);
  EXPECT_EQ(tws::decode_message(
                payload_of({"99", "6", "3", "1700000000", "189,4", "1", "1", "1", "0"}), 187)
                .error,
            WireError::bad_double);
  auto f = fields_of(tws::encode(aapl_details(), 187));
  f[14] = "0.01x"; // minTick
  EXPECT_EQ(tws::decode_message(payload_of(f), 187).error, WireError::bad_double);
}

TEST(Robustness, BadDecimal) {
  EXPECT_EQ(tws::decode_message(
                payload_of({"99", "6", "1", "1700000000", "189.5", "lots", "0", "X", ""}), 187)
                .error,
            WireError::bad_decimal);
}

TEST(Robustness, UnknownMessageIds) {
  for (const char* id : {"0", "-1", "22", "44", "111", "999999", "2147483647"}) {
    const auto d = tws::decode_message(payload_of({id, "1"}), 187);
    EXPECT_EQ(d.error, WireError::unknown_message) << id;
  }
  for (const char* id : {"0", "-1", "26", "48", "111", "5000"}) {
    const auto d = tws::decode_request(payload_of({id, "1"}), 187);
    EXPECT_EQ(d.error, WireError::unknown_message) << id;
  }
  EXPECT_EQ(tws::decode_message(payload_of({"99999999999"}), 187).error, WireError::bad_integer);
}

TEST(Robustness, KnownButUnusedIdsAreOther) {
  // TICK_PRICE, TICK_SIZE, TICK_GENERIC, TICK_STRING, TICK_SNAPSHOT_END,
  // MARKET_DATA_TYPE, TICK_REQ_PARAMS, BOND_CONTRACT_DATA, HEAD_TIMESTAMP.
  // (Historical ticks, 96-98, are decoded: test_historical.cpp.)
  for (int id : {1, 2, 18, 45, 46, 57, 58, 81, 88}) {
    const auto d = tws::decode_message(payload_of({std::to_string(id), "6", "1", "189.5"}), 187);
    EXPECT_FALSE(d.error) << id;
    ASSERT_TRUE(std::holds_alternative<tws::OtherMessage>(d.message)) << id;
    EXPECT_EQ(std::get<tws::OtherMessage>(d.message).msg_id, id);
  }
}

// ============================================================ misc

TEST(TickTypes, NamesAndParsing) {
  EXPECT_EQ(tws::to_string(tws::TickType::last), "Last");
  EXPECT_EQ(tws::to_string(tws::TickType::all_last), "AllLast");
  EXPECT_EQ(tws::to_string(tws::TickType::bid_ask), "BidAsk");
  EXPECT_EQ(tws::to_string(tws::TickType::mid_point), "MidPoint");
  EXPECT_EQ(tws::to_string(static_cast<tws::TickType>(0)), "None");
  EXPECT_EQ(tws::to_string(static_cast<tws::TickType>(5)), "None");
  EXPECT_EQ(tws::parse_tick_type("BidAsk"), tws::TickType::bid_ask);
  EXPECT_EQ(tws::parse_tick_type("AllLast"), tws::TickType::all_last);
  EXPECT_EQ(tws::parse_tick_type("bidask"), std::nullopt);
  EXPECT_EQ(tws::parse_tick_type(""), std::nullopt);
  EXPECT_EQ(tws::parse_tick_type_nocase("bidask"), tws::TickType::bid_ask);
  EXPECT_EQ(tws::parse_tick_type_nocase("MIDPOINT"), tws::TickType::mid_point);
  EXPECT_EQ(tws::parse_tick_type_nocase("last"), tws::TickType::last);
  EXPECT_EQ(tws::parse_tick_type_nocase("Bid"), std::nullopt);
  EXPECT_EQ(tws::parse_tick_type_nocase("LastX"), std::nullopt);
}

TEST(PrintablePayload, ShowsFieldsAndEscapes) {
  EXPECT_EQ(tws::printable_payload("99\0"
                                   "6\0"s),
            "99|6|");
  EXPECT_EQ(tws::printable_payload("a\x01\xff"s), "a\\x01\\xff");
  EXPECT_EQ(tws::printable_payload(std::string(10, 'x'), 4), "xxxx...");
  EXPECT_EQ(tws::printable_payload(""), "");
}

} // namespace

// reqMatchingSymbols / SYMBOL_SAMPLES (tws-protocol.md §10.8, §10.9) and
// reqContractDetails by description (§10.11, §10.13): the verified bytes,
// the layout per server version, hostile counts; tws::Client's
// request_matching_symbols and request_contract_details against a scripted
// fake TWS (fake_tws.hpp).
#include "tws/client.hpp"

#include "fake_tws.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace fake_tws;
using namespace std::string_literals;

std::string payload_of(const std::vector<std::string>& fields) {
  std::string out;
  for (const auto& f : fields) {
    out += f;
    out.push_back('\0');
  }
  return out;
}

std::vector<std::string> fields_of_payload(const std::string& payload) {
  auto f = tws::split_fields(payload);
  EXPECT_TRUE(f.has_value());
  if (!f) return {};
  return {f->begin(), f->end()};
}

// ============================================================ §10.8 request

TEST(MatchingSymbolsRequest, VerifiedBytes) {
  const std::string bytes = tws::encode(tws::ReqMatchingSymbols{9, "AAPL"});
  EXPECT_EQ(bytes, "\0\0\0\x0a"
                   "81\0009\0AAPL\0"s);
}

TEST(MatchingSymbolsRequest, RoundTripsThroughTheSimulatorsDecoder) {
  const tws::ReqMatchingSymbols m{42, "micro"};
  const std::string payload = tws::encode(m).substr(4);
  const auto d = tws::decode_request(payload, 187);
  ASSERT_FALSE(d.error) << d.error.message();
  EXPECT_EQ(d.msg_id, 81);
  EXPECT_EQ(std::get<tws::ReqMatchingSymbols>(d.request), m);
  // A pattern cut off is an error, not an empty pattern.
  EXPECT_TRUE(tws::decode_request(payload_of({"81", "42"}), 187).error);
}

// ============================================================ §10.9 reply

TEST(SymbolSamples, VerifiedDecodeAt187) {
  const auto d = tws::decode_message(payload_of({"79", "9", "1", "265598", "AAPL", "STK", "NASDAQ",
                                                 "USD", "2", "OPT", "WAR", "APPLE INC", ""}),
                                     187);
  ASSERT_FALSE(d.error) << d.error.message();
  const auto& m = std::get<tws::SymbolSamples>(d.message);
  EXPECT_EQ(m.req_id, 9);
  ASSERT_EQ(m.descriptions.size(), 1u);
  const auto& a = m.descriptions[0];
  EXPECT_EQ(a.con_id, 265598);
  EXPECT_EQ(a.symbol, "AAPL");
  EXPECT_EQ(a.sec_type, "STK");
  EXPECT_EQ(a.primary_exchange, "NASDAQ");
  EXPECT_EQ(a.currency, "USD");
  EXPECT_EQ(a.derivative_sec_types, (std::vector<std::string>{"OPT", "WAR"}));
  EXPECT_EQ(a.description, "APPLE INC");
  EXPECT_EQ(a.issuer_id, "");
}

tws::SymbolSamples two_samples() {
  tws::SymbolSamples m;
  m.req_id = 3;
  m.descriptions.push_back(
      {265598, "AAPL", "STK", "NASDAQ", "USD", {"OPT", "WAR"}, "APPLE INC", ""});
  m.descriptions.push_back(
      {551601777, "ES", "IND", "CME", "USD", {"FUT", "FOP"}, "E-mini S&P 500", ""});
  return m;
}

TEST(SymbolSamples, DescriptionAndIssuerIdSitInsideEachDescriptionFrom176) {
  const auto m = two_samples();
  const auto at187 = fields_of_payload(tws::encode(m, 187).substr(4));
  EXPECT_EQ(at187, (std::vector<std::string>{"79",     "3",
                                             "2",      "265598",
                                             "AAPL",   "STK",
                                             "NASDAQ", "USD",
                                             "2",      "OPT",
                                             "WAR",    "APPLE INC",
                                             "",       "551601777",
                                             "ES",     "IND",
                                             "CME",    "USD",
                                             "2",      "FUT",
                                             "FOP",    "E-mini S&P 500",
                                             ""}));
  const auto at175 = fields_of_payload(tws::encode(m, 175).substr(4));
  EXPECT_EQ(at175.size(), 3u + 2 * 8);
  EXPECT_EQ(at175.at(11), "551601777"); // no description between the two

  for (int version : {175, 176, 187}) {
    const auto d = tws::decode_message(tws::encode(m, version).substr(4), version);
    ASSERT_FALSE(d.error) << version;
    auto expected = m;
    if (version < 176)
      for (auto& x : expected.descriptions) x.description.clear();
    EXPECT_EQ(std::get<tws::SymbolSamples>(d.message), expected) << version;
  }
}

TEST(SymbolSamples, EmptyAndHostileCounts) {
  const auto empty = tws::decode_message(payload_of({"79", "4", "0"}), 187);
  ASSERT_FALSE(empty.error);
  EXPECT_TRUE(std::get<tws::SymbolSamples>(empty.message).descriptions.empty());
  // A count far beyond the fields present fails before allocating.
  EXPECT_TRUE(tws::decode_message(payload_of({"79", "4", "100000000", "1", "A"}), 187).error);
  EXPECT_TRUE(tws::decode_message(payload_of({"79", "4", "1", "1", "A", "STK", "X", "USD",
                                              "99999999", "OPT", "desc", ""}),
                                  187)
                  .error);
  // A description cut short.
  EXPECT_TRUE(tws::decode_message(
                  payload_of({"79", "4", "1", "1", "A", "STK", "X", "USD", "0", "desc"}), 187)
                  .error);
}

// ============================================================ §10.11 request

TEST(ContractDetailsByDescription, VerifiedBytes) {
  tws::ReqContractDetails m;
  m.req_id = 11;
  m.contract.symbol = "ES";
  m.contract.sec_type = "FUT";
  m.contract.last_trade_date_or_contract_month = "202509";
  m.contract.exchange = "CME";
  m.contract.currency = "USD";
  EXPECT_EQ(tws::encode(m, 187), "\0\0\0\x2d"
                                 "9\0008\00011\0000\0ES\0FUT\000202509\0000.0\0\0\0CME\0\0USD\0\0\0"
                                 "0\0\0\0\0"s);
}

// ============================================================ tws::Client

struct SamplesResult {
  bool called = false;
  int calls = 0;
  std::error_code ec;
  int tws_code = 0;
  std::vector<tws::ContractDescription> samples;
  tws::SymbolSamplesHandler handler() {
    return [this](std::error_code e, const tws::ErrorMessage* err,
                  std::vector<tws::ContractDescription> s) {
      called = true;
      ++calls;
      ec = e;
      if (err != nullptr) tws_code = err->code;
      samples = std::move(s);
    };
  }
};

struct DetailsResult {
  bool called = false;
  int calls = 0;
  std::error_code ec;
  int tws_code = 0;
  std::vector<tws::ContractDetails> details;
  tws::Client::DetailsHandler handler() {
    return [this](std::error_code e, const tws::ErrorMessage* err,
                  std::vector<tws::ContractDetails> d) {
      called = true;
      ++calls;
      ec = e;
      if (err != nullptr) tws_code = err->code;
      details = std::move(d);
    };
  }
};

TEST(ClientMatchingSymbols, OneReplyOrTheErrorForItsRequest) {
  std::vector<std::vector<std::string>> requests;
  FakeTws fake([&](Peer& p) {
    p.accept_session();
    auto f = p.read_fields();
    requests.push_back(f);
    auto m = two_samples();
    m.req_id = std::stoi(f.at(1));
    p.write(tws::encode(m, 187));
    f = p.read_fields();
    requests.push_back(f);
    p.write(tws::encode(tws::ErrorMessage{std::stoi(f.at(1)), 162, "no data", ""}, 187));
  });
  Harness h({fake.port()});
  h.connect();
  ASSERT_FALSE(h.connect_ec) << h.connect_detail;
  SamplesResult ok, failed;
  h.client->request_matching_symbols("aapl", ok.handler());
  ASSERT_TRUE(h.run_until([&] { return ok.called; }));
  h.client->request_matching_symbols("zz", failed.handler());
  ASSERT_TRUE(h.run_until([&] { return failed.called; }));
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0], (std::vector<std::string>{"81", requests[0].at(1), "aapl"}));
  EXPECT_FALSE(ok.ec);
  EXPECT_EQ(ok.samples, two_samples().descriptions);
  EXPECT_EQ(failed.ec, tws::ClientError::request_failed);
  EXPECT_EQ(failed.tws_code, 162);
  h.run_until([] { return false; }, 100ms);
  EXPECT_EQ(ok.calls + failed.calls, 2);
}

TEST(ClientMatchingSymbols, RefusedLocallyBelow108AndTimesOut) {
  {
    FakeTws fake([&](Peer& p) { p.accept_session(107); });
    Harness h({fake.port()});
    h.connect();
    ASSERT_FALSE(h.connect_ec) << h.connect_detail;
    SamplesResult r;
    h.client->request_matching_symbols("AAPL", r.handler());
    EXPECT_FALSE(r.called);
    ASSERT_TRUE(h.run_until([&] { return r.called; }));
    EXPECT_EQ(r.ec, tws::ClientError::request_failed);
    EXPECT_EQ(r.tws_code, 503);
  }
  FakeTws fake([&](Peer& p) {
    p.accept_session();
    p.read_fields();
  });
  tws::ClientConfig cfg;
  cfg.request_timeout = 200ms;
  Harness h({fake.port()}, cfg);
  h.connect();
  ASSERT_FALSE(h.connect_ec) << h.connect_detail;
  SamplesResult r;
  h.client->request_matching_symbols("AAPL", r.handler());
  ASSERT_TRUE(h.run_until([&] { return r.called; }));
  EXPECT_EQ(r.ec, tws::ClientError::timeout);
}

tws::ContractData future_data(int req_id, int con_id, const std::string& month) {
  tws::ContractData d;
  d.req_id = req_id;
  d.details.contract.con_id = con_id;
  d.details.contract.symbol = "ES";
  d.details.contract.sec_type = "FUT";
  d.details.contract.last_trade_date_or_contract_month = month;
  d.details.contract.exchange = "CME";
  d.details.contract.currency = "USD";
  d.details.time_zone_id = "US/Central";
  d.details.trading_hours = "20261206:1700-20261207:1600";
  return d;
}

TEST(ClientContractDetails, SeveralMatchesUntilTheEndAndNoMatchWithoutOne) {
  FakeTws fake([&](Peer& p) {
    p.accept_session();
    auto f = p.read_fields();
    const int id = std::stoi(f.at(2));
    // Not in expiry order, as TWS sends them (§10.13).
    p.write(tws::encode(future_data(id, 3, "20270618"), 187));
    p.write(tws::encode(future_data(id, 1, "20261218"), 187));
    p.write(tws::encode(future_data(id, 2, "20270319"), 187));
    p.write(tws::encode(tws::ContractDataEnd{id}));
    f = p.read_fields();
    // error 200 and nothing after it: the request is over.
    p.write(
        tws::encode(tws::ErrorMessage{std::stoi(f.at(2)), 200,
                                      "No security definition has been found for the request", ""},
                    187));
    p.read_fields(); // the reqCurrentTime below
  });
  Harness h({fake.port()});
  h.connect();
  ASSERT_FALSE(h.connect_ec) << h.connect_detail;
  tws::Contract es;
  es.symbol = "ES";
  es.sec_type = "FUT";
  es.exchange = "CME";
  DetailsResult several, none;
  h.client->request_contract_details(es, several.handler());
  ASSERT_TRUE(h.run_until([&] { return several.called; }));
  es.symbol = "XX";
  h.client->request_contract_details(es, none.handler());
  ASSERT_TRUE(h.run_until([&] { return none.called; }));
  EXPECT_FALSE(several.ec);
  ASSERT_EQ(several.details.size(), 3u);
  EXPECT_EQ(several.details[0].contract.con_id, 3);
  EXPECT_EQ(several.details[1].contract.con_id, 1);
  EXPECT_EQ(several.details[2].trading_hours, "20261206:1700-20261207:1600");
  EXPECT_EQ(none.ec, tws::ClientError::request_failed);
  EXPECT_EQ(none.tws_code, 200);
  EXPECT_TRUE(none.details.empty());
  h.client->request_current_time([](std::error_code, std::int64_t) {});
  h.run_until([] { return false; }, 200ms);
  EXPECT_EQ(several.calls, 1);
  EXPECT_EQ(none.calls, 1);
  EXPECT_TRUE(h.client->is_connected());
}

} // namespace

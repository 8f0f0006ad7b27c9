// The scale-out control messages (src/bus/messages.hpp): what one end
// encodes the other parses back to the same values, and anything else from
// the bus is refused rather than trusted.
#include "bus/messages.hpp"
#include "tws/error_codes.hpp"

#include <gtest/gtest.h>

namespace {

TEST(BusMessages, OpenRequestRoundTrip) {
  const auto text = bus::encode(bus::OpenRequestMsg{265598, tws::TickType::bid_ask, "edge-1"});
  const auto parsed = bus::parse_open_request(text);
  ASSERT_TRUE(std::holds_alternative<bus::OpenRequestMsg>(parsed)) << text;
  const auto& m = std::get<bus::OpenRequestMsg>(parsed);
  EXPECT_EQ(m.con_id, 265598);
  EXPECT_EQ(m.tick_type, tws::TickType::bid_ask);
  EXPECT_EQ(m.edge, "edge-1");
}

TEST(BusMessages, OpenRequestRefusals) {
  const std::pair<const char*, const char*> cases[] = {
      {"nope", "not a JSON object"},
      {R"({"con_id":0,"tick_type":"Last"})", "con_id"},
      {R"({"con_id":2147483648,"tick_type":"Last"})", "con_id"},
      {R"({"con_id":"1","tick_type":"Last"})", "con_id"},
      {R"({"con_id":1,"tick_type":"last"})", "tick_type"},
      {R"({"con_id":1})", "tick_type"},
  };
  for (const auto& [text, names] : cases) {
    const auto parsed = bus::parse_open_request(text);
    ASSERT_TRUE(std::holds_alternative<std::string>(parsed)) << text;
    EXPECT_NE(std::get<std::string>(parsed).find(names), std::string::npos) << text;
  }
}

TEST(BusMessages, OpenedCarriesTheContractAndLastSequence) {
  stream::ContractInfo c{265598, "AAPL", "STK", "SMART", "NASDAQ", "USD", "AAPL", "NMS", 0.01};
  const auto reply = bus::parse_open_reply(bus::encode_opened(12345678901ULL, c));
  ASSERT_TRUE(reply);
  const auto* opened = std::get_if<stream::RemoteOpened>(&*reply);
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->last_seq, 12345678901ULL);
  const auto back = stream::ContractInfo::from(opened->details);
  EXPECT_EQ(back.con_id, c.con_id);
  EXPECT_EQ(back.symbol, c.symbol);
  EXPECT_EQ(back.sec_type, c.sec_type);
  EXPECT_EQ(back.exchange, c.exchange);
  EXPECT_EQ(back.primary_exchange, c.primary_exchange);
  EXPECT_EQ(back.currency, c.currency);
  EXPECT_EQ(back.local_symbol, c.local_symbol);
  EXPECT_EQ(back.trading_class, c.trading_class);
  EXPECT_DOUBLE_EQ(back.min_tick, c.min_tick);
}

TEST(BusMessages, OpenErrorIsTheSingleNodesAnswer) {
  const stream::OpenError e{429, "RATE_LIMIT_EXCEEDED", "Too many \"streams\"", "Retry later.", 5};
  const auto reply = bus::parse_open_reply(bus::encode_open_error(e));
  ASSERT_TRUE(reply);
  const auto* back = std::get_if<stream::OpenError>(&*reply);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, 429);
  EXPECT_EQ(back->code, e.code);
  EXPECT_EQ(back->message, e.message);
  EXPECT_EQ(back->details, e.details);
  EXPECT_EQ(back->retry_after_s, 5);
  for (const char* bad : {"", "[]", R"({"ok":true})", R"({"ok":true,"last_seq":-1,"contract":{}})",
                          R"({"ok":false})", R"({"ok":false,"error":{"status":99}})"})
    EXPECT_FALSE(bus::parse_open_reply(bad)) << bad;
}

TEST(BusMessages, EventsRoundTrip) {
  stream::RemoteEvent n;
  n.kind = stream::RemoteEvent::Kind::notice;
  n.seq = 42;
  n.code = "market_closed";
  n.message = "closed";
  n.next_open = "2026-12-07T14:30:00.000Z";
  n.period = "1796500000 1796600000";
  auto back = bus::parse_event(bus::encode_event(n));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->kind, stream::RemoteEvent::Kind::notice);
  EXPECT_EQ(back->seq, 42u);
  EXPECT_FALSE(back->error);
  EXPECT_EQ(back->code, n.code);
  EXPECT_EQ(back->message, n.message);
  EXPECT_EQ(back->next_open, n.next_open);
  EXPECT_EQ(back->period, n.period);

  stream::RemoteEvent ended;
  ended.kind = stream::RemoteEvent::Kind::ended;
  ended.seq = 7;
  ended.error = true;
  ended.code = "TWS_ERROR_10089";
  ended.details = "Check the market data subscriptions.";
  back = bus::parse_event(bus::encode_event(ended));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->kind, stream::RemoteEvent::Kind::ended);
  EXPECT_TRUE(back->error);
  EXPECT_EQ(back->code, ended.code);
  EXPECT_EQ(back->details, ended.details);
  for (const char* bad : {"", R"({"kind":"tick","seq":1,"code":"x"})",
                          R"({"kind":"notice","code":"x"})", R"({"kind":"notice","seq":1})"})
    EXPECT_FALSE(bus::parse_event(bad)) << bad;
}

TEST(BusMessages, KeepRoundTripAndRefusals) {
  const bus::KeepMsg m{"edge-2",
                       {{265598, tws::TickType::last}, {711280073, tws::TickType::all_last}}};
  const auto back = bus::parse_keep(bus::encode(m));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->edge, "edge-2");
  EXPECT_EQ(back->streams, m.streams);
  for (const char* bad :
       {"{}", R"({"edge":"","streams":[]})", R"({"edge":"e","streams":["1"]})",
        R"({"edge":"e","streams":["0:Last"]})", R"({"edge":"e","streams":["1:Trades"]})",
        R"({"edge":"e","streams":[1]})"})
    EXPECT_FALSE(bus::parse_keep(bad)) << bad;
}

TEST(BusMessages, StatusCarriesThePublishersTwsConnection) {
  stream::HubSnapshot::Tws t;
  t.connected = true;
  t.host = "10.0.0.5";
  t.port = 4002;
  t.client_id = 7;
  t.server_version = 187;
  t.connected_since = "2026-12-05T06:00:00.000Z";
  stream::RemoteStatus st;
  ASSERT_TRUE(bus::parse_status(bus::encode_status("pub-a", t), st));
  EXPECT_EQ(st.publisher, "pub-a");
  EXPECT_TRUE(st.tws_connected);
  EXPECT_EQ(st.tws_host, "10.0.0.5");
  EXPECT_EQ(st.tws_port, 4002);
  EXPECT_EQ(st.tws_client_id, 7);
  EXPECT_EQ(st.tws_server_version, 187);
  EXPECT_EQ(st.tws_connected_since, t.connected_since);
  EXPECT_FALSE(bus::parse_status(R"({"publisher":"x"})", st));
}

} // namespace

namespace {

TEST(BusMessages, ContractLookupsRoundTrip) {
  tws::Contract q;
  q.symbol = "ES";
  q.sec_type = "FUT";
  q.exchange = "CME";
  q.currency = "USD";
  q.last_trade_date_or_contract_month = "202703";
  const auto back = bus::parse_details_request(bus::encode_details_request(q));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, q);
  EXPECT_FALSE(bus::parse_details_request(R"({"contract":{}})")) << "names no contract";

  tws::ContractDetails d;
  d.contract = q;
  d.contract.con_id = 551601777;
  d.long_name = "E-mini S&P 500";
  d.time_zone_id = "US/Central";
  d.trading_hours = "20270101:1700-20270102:1600";
  d.min_tick = 0.25;
  auto reply = bus::parse_details_reply(bus::encode_details_reply({}, nullptr, {d, d}));
  ASSERT_TRUE(reply);
  EXPECT_FALSE(reply->first.error);
  ASSERT_EQ(reply->second.size(), 2u);
  EXPECT_EQ(reply->second[0].contract.con_id, 551601777);
  EXPECT_EQ(reply->second[0].trading_hours, d.trading_hours);
  EXPECT_EQ(reply->second[0].long_name, d.long_name);

  // TWS's error 200 (no such contract) comes back as the TWS error it was.
  const tws::ErrorMessage e{7, 200, "No security definition has been found", ""};
  reply = bus::parse_details_reply(
      bus::encode_details_reply(make_error_code(tws::ClientError::request_failed), &e, {}));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->first.error, make_error_code(tws::ClientError::request_failed));
  ASSERT_TRUE(reply->first.tws_error);
  EXPECT_EQ(reply->first.tws_error->code, 200);
  EXPECT_EQ(reply->first.tws_error->text, e.text);
  EXPECT_FALSE(bus::parse_details_reply(R"({"error":0,"tws_error":null,"details":[{}]})"))
      << "a details object without con_id";

  tws::ContractDescription s{265598, "AAPL",         "STK",       "NASDAQ",
                             "USD",  {"OPT", "WAR"}, "APPLE INC", ""};
  ASSERT_EQ(bus::parse_symbols_request(bus::encode_symbols_request("appl")), "appl");
  const auto samples = bus::parse_symbols_reply(bus::encode_symbols_reply({}, nullptr, {s}));
  ASSERT_TRUE(samples);
  ASSERT_EQ(samples->second.size(), 1u);
  EXPECT_EQ(samples->second[0], s);
  const auto down = bus::parse_symbols_reply(
      bus::encode_symbols_reply(make_error_code(tws::ClientError::not_connected), nullptr, {}));
  ASSERT_TRUE(down);
  EXPECT_EQ(down->first.error, make_error_code(tws::ClientError::not_connected));
}

} // namespace

namespace {

TEST(BusMessages, ForwardRequestRoundTrip) {
  const bus::ForwardRequestMsg m{"edge-1-7", "/history/265598/Last?duration=15m",
                                 "https://app.example"};
  const auto back = bus::parse_forward_request(bus::encode_forward_request(m));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, m.id);
  EXPECT_EQ(back->target, m.target);
  EXPECT_EQ(back->origin, m.origin);
  EXPECT_FALSE(bus::parse_forward_request(R"({"target":"/history/1"})")) << "no id";
  EXPECT_FALSE(bus::parse_forward_request(R"({"id":")" + std::string(129, 'x') + R"("})"));
}

} // namespace

// reqHistoricalTicks and its replies (tws-protocol.md §10.2-10.7): the
// verified request bytes, the example replies of §10.3 field for field,
// the attribute masks of §10.4, hostile counts; tws::Client's
// request_historical_ticks against a scripted fake TWS (fake_tws.hpp) and
// against the in-process simulator.
#include "sim/simulator.hpp"
#include "tws/client.hpp"

#include "fake_tws.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace fake_tws;
using namespace std::string_literals;
using tws::WireError;

std::string payload_of(const std::vector<std::string>& fields) {
  std::string out;
  for (const auto& f : fields) {
    out += f;
    out.push_back('\0');
  }
  return out;
}

std::string frame_of(const std::vector<std::string>& fields) {
  return tws::make_frame(payload_of(fields));
}

std::vector<std::string> fields_of(const std::string& frame) {
  auto f = tws::split_fields(std::string_view(frame).substr(4));
  EXPECT_TRUE(f.has_value());
  if (!f) return {};
  return {f->begin(), f->end()};
}

tws::ReqHistoricalTicks aapl_request() {
  tws::ReqHistoricalTicks m;
  m.req_id = 7;
  m.contract.symbol = "AAPL";
  m.contract.sec_type = "STK";
  m.contract.exchange = "SMART";
  m.contract.primary_exchange = "NASDAQ";
  m.contract.currency = "USD";
  m.end_date_time = "20250801-20:00:00";
  m.number_of_ticks = 1000;
  m.what_to_show = "TRADES";
  return m;
}

// ============================================================ §10.2 request

TEST(HistoricalTicksRequest, VerifiedBytes) {
  const std::string expected = "96\0"
                               "7\0"
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
                               "\0"
                               "20250801-20:00:00\0"
                               "1000\0"
                               "TRADES\0"
                               "0\0"
                               "0\0"
                               "\0"s;
  ASSERT_EQ(expected.size(), 80u);
  const std::string frame = tws::encode(aapl_request());
  EXPECT_EQ(frame, tws::make_frame(expected));
  EXPECT_EQ(fields_of(frame).size(), 22u);
}

TEST(HistoricalTicksRequest, RoundTripsThroughTheSimulatorsDecoder) {
  auto m = aapl_request();
  m.contract.con_id = 265598;
  m.contract.include_expired = true;
  m.start_date_time = "20250801 09:30:00 US/Eastern";
  m.end_date_time.clear();
  m.what_to_show = "BID_ASK";
  m.use_rth = true;
  m.ignore_size = true;
  m.misc_options = {{"a", "1"}, {"b", ""}};
  const std::string frame = tws::encode(m);
  EXPECT_EQ(fields_of(frame).back(), "a=1;b=;");
  for (int v : {130, 176, 187}) {
    auto d = tws::decode_request(std::string_view(frame).substr(4), v);
    ASSERT_FALSE(d.error) << d.error.message();
    EXPECT_EQ(d.msg_id, 96);
    ASSERT_TRUE(std::holds_alternative<tws::ReqHistoricalTicks>(d.request));
    EXPECT_EQ(std::get<tws::ReqHistoricalTicks>(d.request), m);
  }
}

TEST(HistoricalTicksRequest, TruncatedRequestIsAnError) {
  auto fields = fields_of(tws::encode(aapl_request()));
  fields.pop_back();
  fields.pop_back();
  EXPECT_EQ(tws::decode_request(payload_of(fields), 187).error, WireError::missing_field);
}

// ============================================================ §10.3 replies

/// Decodes `fields`, checks the type, re-encodes and compares the fields.
template <class T> T round_trip(const std::vector<std::string>& fields) {
  auto d = tws::decode_message(payload_of(fields), 187);
  EXPECT_FALSE(d.error) << d.error.message();
  EXPECT_TRUE(std::holds_alternative<T>(d.message));
  if (!std::holds_alternative<T>(d.message)) return T{};
  const T m = std::get<T>(d.message);
  EXPECT_EQ(fields_of(tws::encode(m)), fields);
  return m;
}

TEST(HistoricalTicksReply, MidpointExample) {
  const auto m = round_trip<tws::HistoricalTicks>(
      {"96", "7", "2", "1754056800", "0", "189.5", "0", "1754056801", "0", "189.55", "0", "1"});
  EXPECT_EQ(m.req_id, 7);
  ASSERT_EQ(m.ticks.size(), 2u);
  EXPECT_EQ(m.ticks[0], (tws::HistoricalTick{1754056800, 189.5, 0.0}));
  EXPECT_EQ(m.ticks[1], (tws::HistoricalTick{1754056801, 189.55, 0.0}));
  EXPECT_TRUE(m.done);
}

TEST(HistoricalTicksReply, BidAskExampleAndItsMaskOrder) {
  const auto m = round_trip<tws::HistoricalTicksBidAsk>(
      {"97", "8", "1", "1754055000", "1", "189.4", "189.6", "300", "200", "1"});
  ASSERT_EQ(m.ticks.size(), 1u);
  const auto& t = m.ticks[0];
  EXPECT_EQ(t.time, 1754055000);
  EXPECT_TRUE(t.ask_past_high); // bit 0 here, bit 1 in TICK_BY_TICK BidAsk
  EXPECT_FALSE(t.bid_past_low);
  EXPECT_EQ(t.bid_price, 189.4);
  EXPECT_EQ(t.ask_price, 189.6);
  EXPECT_EQ(t.bid_size, 300.0);
  EXPECT_EQ(t.ask_size, 200.0);
  auto two = round_trip<tws::HistoricalTicksBidAsk>(
      {"97", "8", "1", "1754055000", "2", "189.4", "189.6", "300", "200", "0"});
  EXPECT_TRUE(two.ticks.at(0).bid_past_low);
  EXPECT_FALSE(two.ticks.at(0).ask_past_high);
  EXPECT_FALSE(two.done);
}

TEST(HistoricalTicksReply, LastExampleAndEmptyReply) {
  const auto m = round_trip<tws::HistoricalTicksLast>(
      {"98", "7", "1", "1754078399", "2", "189.5", "100", "NASDAQ", "", "1"});
  ASSERT_EQ(m.ticks.size(), 1u);
  const auto& t = m.ticks[0];
  EXPECT_EQ(t.time, 1754078399);
  EXPECT_TRUE(t.unreported);
  EXPECT_FALSE(t.past_limit);
  EXPECT_EQ(t.price, 189.5);
  EXPECT_EQ(t.size, 100.0);
  EXPECT_EQ(t.exchange, "NASDAQ");
  EXPECT_EQ(t.special_conditions, "");
  const auto empty = round_trip<tws::HistoricalTicksLast>({"98", "7", "0", "1"});
  EXPECT_TRUE(empty.ticks.empty());
  EXPECT_TRUE(empty.done);
  const auto limit = round_trip<tws::HistoricalTicksLast>(
      {"98", "7", "1", "1754078399", "1", "189.5", "100", "ARCA", "I", "1"});
  EXPECT_TRUE(limit.ticks.at(0).past_limit);
  EXPECT_EQ(limit.ticks.at(0).special_conditions, "I");
}

TEST(HistoricalTicksReply, HostileCountsAndBadFieldsAreErrors) {
  // A count larger than what follows must not allocate or read past the end.
  EXPECT_EQ(tws::decode_message(payload_of({"98", "7", "2000000000", "1"}), 187).error,
            WireError::missing_field);
  EXPECT_EQ(
      tws::decode_message(payload_of({"96", "7", "1", "1754056800", "0", "189.5", "0"}), 187).error,
      WireError::missing_field);
  EXPECT_EQ(
      tws::decode_message(payload_of({"96", "7", "1", "1754056800.5", "0", "189.5", "0", "1"}), 187)
          .error,
      WireError::bad_integer);
  // A negative count reads as none, as IB's decoders do.
  auto d = tws::decode_message(payload_of({"97", "8", "-1", "1"}), 187);
  ASSERT_FALSE(d.error);
  EXPECT_TRUE(std::get<tws::HistoricalTicksBidAsk>(d.message).ticks.empty());
}

// ============================================================ tws::Client

struct HistoryResult {
  bool called = false;
  int calls = 0;
  std::error_code ec;
  int tws_code = 0;
  std::string tws_text;
  std::vector<tws::Tick> ticks;
  tws::HistoricalTicksHandler handler() {
    return [this](std::error_code e, const tws::ErrorMessage* err, std::vector<tws::Tick> t) {
      called = true;
      ++calls;
      ec = e;
      if (err != nullptr) {
        tws_code = err->code;
        tws_text = err->text;
      }
      ticks = std::move(t);
    };
  }
};

tws::HistoricalTicksRequest trades_request() {
  tws::HistoricalTicksRequest r;
  r.contract.con_id = 265598;
  r.contract.exchange = "SMART";
  r.start = "20250801-13:30:00";
  r.count = 3;
  r.what_to_show = "TRADES";
  return r;
}

TEST(ClientHistoricalTicks, CollectsRepliesUntilDoneAndConvertsEachKind) {
  std::vector<std::vector<std::string>> requests;
  FakeTws fake([&](Peer& p) {
    p.accept_session();
    for (int i = 0; i < 3; ++i) {
      auto f = p.read_fields();
      requests.push_back(f);
      const std::string id = f.at(1);
      if (f.at(18) == "TRADES") {
        // Two replies: the ticks are joined until done = 1.
        p.write(frame_of({"98", id, "1", "1754055000", "2", "189.5", "100", "NASDAQ", "", "0"}));
        p.write(frame_of({"98", id, "1", "1754055001", "1", "189.6", "5", "ARCA", "I", "1"}));
      } else if (f.at(18) == "BID_ASK") {
        p.write(frame_of({"97", id, "1", "1754055000", "1", "189.4", "189.6", "300", "200", "1"}));
      } else {
        p.write(frame_of({"96", id, "1", "1754055000", "0", "189.5", "0", "1"}));
      }
    }
  });
  Harness h({fake.port()});
  h.connect();
  ASSERT_FALSE(h.connect_ec) << h.connect_detail;
  HistoryResult trades, quotes, mids;
  auto r = trades_request();
  h.client->request_historical_ticks(r, trades.handler());
  r.what_to_show = "BID_ASK";
  r.ignore_size = true;
  r.start.clear();
  r.end = "20250801 16:00:00 US/Eastern";
  h.client->request_historical_ticks(r, quotes.handler());
  r.what_to_show = "MIDPOINT";
  h.client->request_historical_ticks(r, mids.handler());
  ASSERT_TRUE(h.run_until([&] { return trades.called && quotes.called && mids.called; }));

  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].size(), 22u);
  EXPECT_EQ(requests[0].at(0), "96");
  EXPECT_EQ(requests[0].at(2), "265598");
  EXPECT_EQ(requests[0].at(15), "20250801-13:30:00");
  EXPECT_EQ(requests[0].at(16), "");
  EXPECT_EQ(requests[0].at(17), "3");
  EXPECT_EQ(requests[1].at(15), "");
  EXPECT_EQ(requests[1].at(16), "20250801 16:00:00 US/Eastern");
  EXPECT_EQ(requests[1].at(20), "1"); // ignoreSize

  EXPECT_FALSE(trades.ec);
  ASSERT_EQ(trades.ticks.size(), 2u);
  const auto& t0 = std::get<tws::TickByTickLast>(trades.ticks[0]);
  EXPECT_EQ(t0.type, tws::TickType::all_last);
  EXPECT_EQ(t0.time, 1754055000);
  EXPECT_EQ(t0.price, 189.5);
  EXPECT_EQ(t0.size, 100.0);
  EXPECT_TRUE(t0.unreported);
  EXPECT_EQ(t0.exchange, "NASDAQ");
  const auto& t1 = std::get<tws::TickByTickLast>(trades.ticks[1]);
  EXPECT_TRUE(t1.past_limit);
  EXPECT_EQ(t1.special_conditions, "I");

  EXPECT_FALSE(quotes.ec);
  ASSERT_EQ(quotes.ticks.size(), 1u);
  const auto& q = std::get<tws::TickByTickBidAsk>(quotes.ticks[0]);
  EXPECT_TRUE(q.ask_past_high);
  EXPECT_FALSE(q.bid_past_low);
  EXPECT_EQ(q.bid_size, 300.0);

  EXPECT_FALSE(mids.ec);
  ASSERT_EQ(mids.ticks.size(), 1u);
  EXPECT_EQ(std::get<tws::TickByTickMidPoint>(mids.ticks[0]).mid_point, 189.5);
  EXPECT_EQ(trades.calls + quotes.calls + mids.calls, 3);
}

TEST(ClientHistoricalTicks, ErrorsEndTheRequestAndWarningsDoNot) {
  FakeTws fake([&](Peer& p) {
    p.accept_session();
    for (int i = 0; i < 2; ++i) {
      auto f = p.read_fields();
      const int id = std::stoi(f.at(1));
      if (i == 0) {
        p.write(tws::encode(
            tws::ErrorMessage{id, 162,
                              "Historical Market Data Service error message:HMDS query returned "
                              "no data: AAPL@SMART TRADES",
                              ""},
            187));
      } else {
        // A warning for the request (2174) does not end it; the reply does.
        p.write(tws::encode(tws::ErrorMessage{id, 2174, "Warning: time zone", ""}, 187));
        p.write(frame_of({"98", std::to_string(id), "0", "1"}));
      }
    }
  });
  Harness h({fake.port()});
  h.connect();
  ASSERT_FALSE(h.connect_ec) << h.connect_detail;
  HistoryResult no_data, empty;
  h.client->request_historical_ticks(trades_request(), no_data.handler());
  h.client->request_historical_ticks(trades_request(), empty.handler());
  ASSERT_TRUE(h.run_until([&] { return no_data.called && empty.called; }));
  EXPECT_EQ(no_data.ec, tws::ClientError::request_failed);
  EXPECT_EQ(no_data.tws_code, 162);
  EXPECT_NE(no_data.tws_text.find("HMDS query returned no data"), std::string::npos);
  EXPECT_FALSE(empty.ec);
  EXPECT_TRUE(empty.ticks.empty());
  EXPECT_TRUE(h.client->is_connected());
}

TEST(ClientHistoricalTicks, TimesOutAndConnectionLossFailsPending) {
  FakeTws fake([&](Peer& p) {
    p.accept_session();
    p.read_fields(); // never answered: times out
    p.read_fields(); // answered by closing the socket
    p.s.close();
  });
  tws::ClientConfig cfg;
  cfg.request_timeout = 300ms;
  Harness h({fake.port()}, cfg);
  h.connect();
  ASSERT_FALSE(h.connect_ec) << h.connect_detail;
  HistoryResult timed_out, lost;
  h.client->request_historical_ticks(trades_request(), timed_out.handler());
  ASSERT_TRUE(h.run_until([&] { return timed_out.called; }));
  EXPECT_EQ(timed_out.ec, tws::ClientError::timeout);
  h.client->request_historical_ticks(trades_request(), lost.handler());
  ASSERT_TRUE(h.run_until([&] { return lost.called; }));
  EXPECT_EQ(lost.ec, tws::ClientError::connection_lost);
  h.run_until([] { return false; }, 100ms);
  EXPECT_EQ(timed_out.calls, 1);
  EXPECT_EQ(lost.calls, 1);
}

TEST(ClientHistoricalTicks, RefusedLocallyBelowServerVersion130) {
  std::atomic<int> frames_after_start{0};
  FakeTws fake([&](Peer& p) {
    p.accept_session(129);
    // Nothing may arrive: the reqCurrentTime below is the next frame.
    auto f = p.read_fields();
    if (f.at(0) != "49") ++frames_after_start;
  });
  Harness h({fake.port()});
  h.connect();
  ASSERT_FALSE(h.connect_ec) << h.connect_detail;
  HistoryResult r;
  h.client->request_historical_ticks(trades_request(), r.handler());
  EXPECT_FALSE(r.called); // never inline: on the executor
  ASSERT_TRUE(h.run_until([&] { return r.called; }));
  EXPECT_EQ(r.ec, tws::ClientError::request_failed);
  EXPECT_EQ(r.tws_code, 503);
  EXPECT_NE(r.tws_text.find("out of date"), std::string::npos);
  h.client->request_current_time([](std::error_code, std::int64_t) {});
  h.run_until([] { return false; }, 200ms);
  EXPECT_EQ(frames_after_start.load(), 0);
}

TEST(ClientHistoricalTicks, NotConnected) {
  Harness h({closed_port()});
  HistoryResult r;
  h.client->request_historical_ticks(trades_request(), r.handler());
  ASSERT_TRUE(h.run_until([&] { return r.called; }));
  EXPECT_EQ(r.ec, tws::ClientError::not_connected);
}

// ------------------------------------------------------------ in-process simulator

/// Runs a wall-clock simulator on its own thread.
struct SimThread {
  asio::io_context ioc;
  std::unique_ptr<sim::Simulator> sim;
  std::thread thread;
  explicit SimThread(sim::SimConfig c) {
    c.port = 0;
    c.request_log_path = "/dev/null";
    sim = std::make_unique<sim::Simulator>(ioc, c);
    sim->start();
    thread = std::thread([this] { ioc.run(); });
  }
  ~SimThread() {
    sim->stop();
    ioc.stop();
    thread.join();
  }
};

/// The ticks without their request ids (two requests for the same ticks).
std::vector<tws::Tick> without_ids(std::vector<tws::Tick> ticks) {
  for (auto& t : ticks) std::visit([](auto& x) { x.req_id = 0; }, t);
  return ticks;
}

std::string utc_text(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H:%M:%S", &tm);
  return buf;
}

TEST(ClientHistoricalTicks, AgainstTheSimulatorStartAndEndFormsAgree) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  sim::SimConfig c;
  c.clock = sim::ClockMode::wall;
  c.start_time = now - 30;
  c.default_rate = 40;
  c.historical_pacing = false;
  SimThread s(c);
  Harness h({s.sim->port()});
  h.connect();
  ASSERT_FALSE(h.connect_ec) << h.connect_detail;
  for (const char* what : {"TRADES", "BID_ASK", "MIDPOINT"}) {
    SCOPED_TRACE(what);
    // Seconds [S+5, S+10): from the start, then up to the end, must be the same ticks.
    HistoryResult forward, backward, unknown;
    auto r = trades_request();
    r.what_to_show = what;
    r.start = utc_text(now - 25);
    r.count = 1000;
    h.client->request_historical_ticks(r, forward.handler());
    ASSERT_TRUE(h.run_until([&] { return forward.called; }));
    ASSERT_FALSE(forward.ec) << forward.tws_text;
    std::vector<tws::Tick> window;
    for (const auto& t : forward.ticks) {
      const auto time = std::visit([](const auto& x) { return x.time; }, t);
      ASSERT_GE(time, now - 25);
      if (time < now - 20) window.push_back(t);
    }
    ASSERT_FALSE(window.empty());
    r.start.clear();
    r.end = utc_text(now - 21);
    r.count = static_cast<int>(window.size());
    h.client->request_historical_ticks(r, backward.handler());
    ASSERT_TRUE(h.run_until([&] { return backward.called; }));
    ASSERT_FALSE(backward.ec) << backward.tws_text;
    ASSERT_EQ(backward.ticks.size(), window.size());
    EXPECT_TRUE(without_ids(backward.ticks) == without_ids(window));
    r.contract.con_id = 1;
    h.client->request_historical_ticks(r, unknown.handler());
    ASSERT_TRUE(h.run_until([&] { return unknown.called; }));
    EXPECT_EQ(unknown.tws_code, 200);
  }
}

} // namespace

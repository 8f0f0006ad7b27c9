// tws::Client against a scripted fake TWS on a real loopback socket
// (fake_tws.hpp): the fake runs blocking I/O on its own thread; the client
// runs on the test's io_context.
#include "tws/client.hpp"

#include "fake_tws.hpp"

#include <gtest/gtest.h>

namespace {

using namespace fake_tws;

TEST(Client, HandshakeStartApiAndSessionInfo) {
  std::vector<std::string> start;
  FakeTws fake([&](Peer& p) { start = p.accept_session(176); });
  tws::ClientConfig cfg;
  cfg.client_id = 7;
  Harness h({fake.port()}, cfg);
  h.connect();
  ASSERT_FALSE(h.connect_ec) << h.connect_detail;
  EXPECT_TRUE(h.client->is_connected());
  EXPECT_EQ(h.client->session().server_version, 176);
  EXPECT_EQ(h.client->session().accounts, "DU1234567");
  EXPECT_EQ(h.client->session().next_valid_id, 1);
  EXPECT_EQ(h.client->session().connection_time, "20240120 10:15:30 EST");
  EXPECT_EQ(start, (std::vector<std::string>{"71", "2", "7", ""}));
  // The farm notice arrives as info, not as an error of any request.
  ASSERT_TRUE(h.run_until([&] { return !h.notices.empty(); }));
  EXPECT_EQ(h.notices[0].code, 2104);
  EXPECT_EQ(tws::classify_error(2104).kind, tws::ErrorKind::info);
}

TEST(Client, TriesPortsInOrder) {
  FakeTws fake([](Peer& p) { p.accept_session(); });
  const auto dead = closed_port();
  Harness h({dead, fake.port()});
  h.connect();
  ASSERT_FALSE(h.connect_ec) << h.connect_detail;
  EXPECT_EQ(h.client->session().port, fake.port());
}

TEST(Client, AllPortsRefusedNamesEachPort) {
  const auto a = closed_port();
  const auto b = closed_port();
  Harness h({a, b});
  h.connect();
  EXPECT_EQ(h.connect_ec, tws::ClientError::connect_failed);
  EXPECT_NE(h.connect_detail.find("port " + std::to_string(a)), std::string::npos)
      << h.connect_detail;
  EXPECT_NE(h.connect_detail.find("port " + std::to_string(b)), std::string::npos);
  EXPECT_FALSE(h.client->is_connected());
}

TEST(Client, DuplicateClientIdStopsWithoutTryingOtherPorts) {
  FakeTws fake([](Peer& p) {
    p.read_exact(4);
    p.read_frame();
    p.write(tws::encode_server_hello(187, "20240120 10:15:30 EST"));
    p.read_frame();
    p.write(tws::encode(tws::ErrorMessage{-1, 326,
                                          "Unable to connect as the client id is already in use. "
                                          "Retry with a unique client id.",
                                          ""},
                        187));
    p.s.close();
  });
  // Were the client to go on to the next port, it would end with
  // connect_failed there instead of client_id_in_use.
  Harness h({fake.port(), closed_port()});
  h.connect();
  EXPECT_EQ(h.connect_ec, tws::ClientError::client_id_in_use);
  EXPECT_NE(h.connect_detail.find("client id 2"), std::string::npos) << h.connect_detail;
}

TEST(Client, RejectsUnsupportedServerVersion) {
  FakeTws fake([](Peer& p) {
    p.read_exact(4);
    p.read_frame();
    p.write(tws::encode_server_hello(200, "20240120 10:15:30 EST"));
  });
  Harness h({fake.port()});
  h.connect();
  EXPECT_EQ(h.connect_ec, tws::ClientError::unsupported_version);
  EXPECT_NE(h.connect_detail.find("200"), std::string::npos);
}

TEST(Client, HandshakeTimeoutWhenPeerIsSilent) {
  FakeTws fake([](Peer& p) { p.read_exact(4); });
  tws::ClientConfig cfg;
  cfg.connect_timeout = 300ms;
  Harness h({fake.port()}, cfg);
  h.connect();
  EXPECT_EQ(h.connect_ec, tws::ClientError::handshake_timeout);
}

TEST(Client, ContractDetailsAndErrorRouting) {
  std::vector<std::vector<std::string>> requests;
  FakeTws fake([&](Peer& p) {
    p.accept_session();
    for (int i = 0; i < 2; ++i) {
      auto f = p.read_fields();
      requests.push_back(f);
      const int req = std::stoi(f.at(2));
      if (f.at(3) == "265598") {
        tws::ContractData cd;
        cd.req_id = req;
        cd.details.contract.con_id = 265598;
        cd.details.contract.symbol = "AAPL";
        cd.details.contract.sec_type = "STK";
        cd.details.contract.exchange = "SMART";
        cd.details.contract.primary_exchange = "NASDAQ";
        cd.details.contract.currency = "USD";
        cd.details.min_tick = 0.01;
        cd.details.long_name = "APPLE INC";
        p.write(tws::encode(cd, 187));
        p.write(tws::encode(tws::ContractDataEnd{req}));
      } else {
        p.write(tws::encode(
            tws::ErrorMessage{req, 200, "No security definition has been found for the request",
                              ""},
            187));
      }
    }
  });
  Harness h({fake.port()});
  h.connect();
  ASSERT_FALSE(h.connect_ec) << h.connect_detail;
  std::vector<tws::ContractDetails> found;
  std::error_code ok_ec, bad_ec;
  int bad_code = 0;
  int done = 0;
  h.client->request_contract_details(265598, [&](std::error_code ec, const tws::ErrorMessage*,
                                                 std::vector<tws::ContractDetails> d) {
    ok_ec = ec;
    found = std::move(d);
    ++done;
  });
  h.client->request_contract_details(
      999, [&](std::error_code ec, const tws::ErrorMessage* e, std::vector<tws::ContractDetails>) {
        bad_ec = ec;
        bad_code = e ? e->code : 0;
        ++done;
      });
  ASSERT_TRUE(h.run_until([&] { return done == 2; }));
  EXPECT_FALSE(ok_ec);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].contract.symbol, "AAPL");
  EXPECT_EQ(found[0].contract.primary_exchange, "NASDAQ");
  EXPECT_DOUBLE_EQ(found[0].min_tick, 0.01);
  EXPECT_EQ(bad_ec, tws::ClientError::request_failed);
  EXPECT_EQ(bad_code, 200);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].at(0), "9"); // reqContractDetails, version 8
  EXPECT_EQ(requests[0].at(1), "8");
  EXPECT_TRUE(h.client->is_connected()); // a request error is not a connection error
}

TEST(Client, TickByTickDeliveryErrorsAndCancel) {
  std::vector<std::string> sub_request, cancel_request;
  std::atomic<bool> cancel_seen{false};
  FakeTws fake([&](Peer& p) {
    p.accept_session();
    sub_request = p.read_fields();
    const int req = std::stoi(sub_request.at(1));
    tws::TickByTickBidAsk q;
    q.req_id = req;
    q.time = 1700000000;
    q.bid_price = 189.4;
    q.ask_price = 189.6;
    q.bid_size = 300;
    q.ask_size = 200;
    q.ask_past_high = true;
    p.write(tws::encode(q));
    // A second subscription that TWS refuses.
    auto second = p.read_fields();
    p.write(
        tws::encode(tws::ErrorMessage{std::stoi(second.at(1)), 10190,
                                      "Max number of tick-by-tick requests has been reached.", ""},
                    187));
    cancel_request = p.read_fields();
    cancel_seen = true;
  });
  Harness h({fake.port()});
  h.connect();
  ASSERT_FALSE(h.connect_ec) << h.connect_detail;
  tws::Contract c;
  c.con_id = 265598;
  c.symbol = "AAPL";
  c.sec_type = "STK";
  c.exchange = "SMART";
  c.primary_exchange = "NASDAQ";
  c.currency = "USD";
  std::vector<tws::Tick> ticks;
  tws::Client::TickCallbacks cb;
  cb.on_tick = [&](const tws::Tick& t) { ticks.push_back(t); };
  const int id = h.client->subscribe_tick_by_tick(c, tws::TickType::bid_ask, cb);
  ASSERT_GT(id, 0);
  ASSERT_TRUE(h.run_until([&] { return !ticks.empty(); }));
  const auto* q = std::get_if<tws::TickByTickBidAsk>(&ticks[0]);
  ASSERT_NE(q, nullptr);
  EXPECT_DOUBLE_EQ(q->bid_price, 189.4);
  EXPECT_EQ(q->ask_size, 200.0);
  EXPECT_FALSE(q->bid_past_low);
  EXPECT_TRUE(q->ask_past_high);
  EXPECT_EQ(sub_request.at(0), "97");
  EXPECT_EQ(sub_request.at(2), "265598");
  EXPECT_EQ(sub_request.at(14), "BidAsk");

  int err_code = 0;
  tws::ErrorKind err_kind = tws::ErrorKind::info;
  tws::Client::TickCallbacks cb2;
  cb2.on_error = [&](const tws::ErrorMessage& m, const tws::ErrorClass& k) {
    err_code = m.code;
    err_kind = k.kind;
  };
  h.client->subscribe_tick_by_tick(c, tws::TickType::last, cb2);
  ASSERT_TRUE(h.run_until([&] { return err_code != 0; }));
  EXPECT_EQ(err_code, 10190);
  EXPECT_EQ(err_kind, tws::ErrorKind::request_failed);
  EXPECT_EQ(h.client->subscription_count(), 1u); // the refused one is gone

  h.client->cancel_tick_by_tick(id);
  EXPECT_EQ(h.client->subscription_count(), 0u);
  ASSERT_TRUE(h.run_until([&] { return cancel_seen.load(); }));
  EXPECT_EQ(cancel_request, (std::vector<std::string>{"98", std::to_string(id)}));
}

TEST(Client, MalformedMessagesAreSkipped) {
  FakeTws fake([](Peer& p) {
    p.accept_session();
    auto sub = p.read_fields();
    const std::string req = sub.at(1);
    auto payload = [](std::initializer_list<std::string> fields) {
      std::string out;
      for (const auto& f : fields) {
        out += f;
        out.push_back('\0');
      }
      return out;
    };
    std::string no_nul = payload({"99", req, "4", "1700000000", "189.5"});
    no_nul.pop_back();
    p.write(tws::make_frame(no_nul));                // no NUL
    p.write(tws::make_frame(payload({"555", "x"}))); // unknown id
    p.write(
        tws::make_frame(payload({"99", req, "1", "notatime", "1", "1", "0", "X", ""}))); // bad long
    p.write(tws::make_frame(payload({"99", req, "4"})));                        // truncated
    p.write(tws::make_frame(payload({"99", req, "4", "1700000000", "1.2.3"}))); // bad double
    tws::TickByTickMidPoint m;
    m.req_id = std::stoi(req);
    m.time = 1700000000;
    m.mid_point = 189.5;
    p.write(tws::encode(m));
  });
  Harness h({fake.port()});
  h.connect();
  ASSERT_FALSE(h.connect_ec) << h.connect_detail;
  std::vector<tws::Tick> ticks;
  tws::Client::TickCallbacks cb;
  cb.on_tick = [&](const tws::Tick& t) { ticks.push_back(t); };
  tws::Contract c;
  c.con_id = 1;
  h.client->subscribe_tick_by_tick(c, tws::TickType::mid_point, cb);
  ASSERT_TRUE(h.run_until([&] { return !ticks.empty(); }));
  h.run_until([] { return false; }, 100ms);
  ASSERT_EQ(ticks.size(), 1u);
  EXPECT_DOUBLE_EQ(std::get<tws::TickByTickMidPoint>(ticks[0]).mid_point, 189.5);
  EXPECT_TRUE(h.client->is_connected());
}

TEST(Client, OversizedFrameEndsTheConnection) {
  FakeTws fake([](Peer& p) {
    p.accept_session();
    p.write(std::string("\x01\x00\x00\x01", 4)); // 16 MiB + 1
  });
  Harness h({fake.port()});
  h.connect();
  ASSERT_FALSE(h.connect_ec) << h.connect_detail;
  ASSERT_TRUE(h.run_until([&] { return h.disconnected; }));
  EXPECT_EQ(h.disconnect_ec, tws::ClientError::protocol_error);
  EXPECT_FALSE(h.client->is_connected());
}

TEST(Client, DetectsADeadSocketWithKeepalive) {
  std::atomic<int> keepalives{0};
  FakeTws fake([&](Peer& p) {
    p.accept_session();
    // Read the keepalive request but never answer.
    auto f = p.read_fields();
    if (!f.empty() && f[0] == "49") ++keepalives;
  });
  tws::ClientConfig cfg;
  cfg.keepalive_interval = 200ms;
  cfg.keepalive_timeout = 300ms;
  Harness h({fake.port()}, cfg);
  h.connect();
  ASSERT_FALSE(h.connect_ec) << h.connect_detail;
  ASSERT_TRUE(h.run_until([&] { return h.disconnected; }, 10s));
  EXPECT_EQ(h.disconnect_ec, tws::ClientError::connection_lost);
  EXPECT_EQ(keepalives.load(), 1);
}

TEST(Client, KeepaliveAnsweredKeepsTheSessionAlive) {
  std::atomic<int> answered{0};
  FakeTws fake([&](Peer& p) {
    p.accept_session();
    for (int i = 0; i < 3; ++i) {
      auto f = p.read_fields();
      if (f.empty() || f[0] != "49") return;
      p.write(tws::encode(tws::CurrentTime{1700000000 + i}));
      ++answered;
    }
  });
  tws::ClientConfig cfg;
  cfg.keepalive_interval = 100ms;
  cfg.keepalive_timeout = 2s;
  Harness h({fake.port()}, cfg);
  h.connect();
  ASSERT_FALSE(h.connect_ec) << h.connect_detail;
  ASSERT_TRUE(h.run_until([&] { return answered.load() == 3; }));
  EXPECT_FALSE(h.disconnected);
  EXPECT_TRUE(h.client->is_connected());
}

TEST(Client, CleanDisconnectCancelsSubscriptions) {
  std::vector<std::string> after_sub;
  std::atomic<bool> eof{false};
  FakeTws fake([&](Peer& p) {
    p.accept_session();
    p.read_fields(); // the subscription
    after_sub = p.read_fields();
    try {
      p.read_exact(1);
    } catch (const std::exception&) {
      eof = true;
    }
  });
  Harness h({fake.port()});
  h.connect();
  ASSERT_FALSE(h.connect_ec) << h.connect_detail;
  tws::Contract c;
  c.con_id = 265598;
  const int id = h.client->subscribe_tick_by_tick(c, tws::TickType::last, {});
  h.run_until([] { return false; }, 50ms);
  h.client->disconnect();
  ASSERT_TRUE(h.run_until([&] { return eof.load(); }));
  EXPECT_EQ(after_sub, (std::vector<std::string>{"98", std::to_string(id)}));
  EXPECT_TRUE(h.disconnected);
  EXPECT_EQ(h.disconnect_ec, tws::ClientError::cancelled);
}

TEST(Client, RequestsWhileDisconnectedFailCleanly) {
  Harness h({closed_port()});
  std::error_code ec;
  bool called = false;
  h.client->request_contract_details(
      265598, [&](std::error_code e, const tws::ErrorMessage*, std::vector<tws::ContractDetails>) {
        ec = e;
        called = true;
      });
  int code = 0;
  tws::Client::TickCallbacks cb;
  cb.on_error = [&](const tws::ErrorMessage& m, const tws::ErrorClass&) { code = m.code; };
  EXPECT_EQ(h.client->subscribe_tick_by_tick(tws::Contract{}, tws::TickType::last, cb), 0);
  ASSERT_TRUE(h.run_until([&] { return called && code != 0; }));
  EXPECT_EQ(ec, tws::ClientError::not_connected);
  EXPECT_EQ(code, 504);
}

} // namespace

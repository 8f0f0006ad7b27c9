// stream::Hub against the real simulator (in-process, on a loopback port):
// sharing, limits, errors, linger, resume, stop, TWS loss and the watchdog.
#include "hub_reader.hpp"
#include "io_loop.hpp"
#include "sim/simulator.hpp"
#include "stream/hub.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr int kAapl = 265598;
constexpr int kTsla = 76792991; // no market data permissions in the simulator

using test_support::Loop;
using Recorder = test_support::HubReader;

class HubTest : public ::testing::Test {
protected:
  void start_sim(sim::SimConfig c = {}) {
    c.port = 0;
    c.start_time = 1700000000;
    c.default_rate = c.default_rate == 4.0 ? 50.0 : c.default_rate;
    c.request_log_path = "/dev/null";
    c.client_id_hold_seconds = 0.3;
    sim_ = std::make_unique<sim::Simulator>(sim_loop_.ioc, c);
    sim_->start();
  }

  stream::HubConfig hub_config() {
    stream::HubConfig c;
    c.tws.ports = {sim_ ? sim_->port() : closed_port()};
    c.tws.client_id = 7;
    c.tws.connect_timeout = 2000ms;
    c.connect_wait = 3000ms;
    c.linger = 300ms;
    c.backoff_initial = 100ms;
    c.backoff_max = 500ms;
    c.watchdog_min_silence = 1000ms;
    c.same_request_spacing = 200ms;
    return c;
  }

  void start_hub(stream::HubConfig c) {
    hub_ = stream::Hub::create(hub_loop_.ioc.get_executor(), std::move(c));
    hub_->start();
  }

  static std::uint16_t closed_port() {
    asio::io_context ioc;
    asio::ip::tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port(); // closed when `a` goes away
  }

  std::shared_ptr<Recorder> recorder() {
    return recorders_.emplace_back(std::make_shared<Recorder>(client_loop_.ioc));
  }

  /// Opens a client stream for `r` and, when it opened, starts reading.
  stream::OpenResult open(const std::shared_ptr<Recorder>& r, int con_id, tws::TickType type,
                          std::optional<std::uint64_t> last_event_id = std::nullopt) {
    stream::OpenRequest req;
    req.con_id = con_id;
    req.tick_type = type;
    req.last_event_id = last_event_id;
    req.remote = "127.0.0.1:1";
    req.loop = &client_loop_.ioc;
    std::promise<stream::OpenResult> p;
    auto f = p.get_future();
    hub_->open(req, r, [&p](stream::OpenResult res) { p.set_value(std::move(res)); });
    EXPECT_EQ(f.wait_for(15s), std::future_status::ready);
    auto res = f.get();
    if (!res.error) r->start(res);
    return res;
  }

  stream::HubSnapshot snapshot() {
    std::promise<stream::HubSnapshot> p;
    auto f = p.get_future();
    hub_->snapshot([&p](stream::HubSnapshot s) { p.set_value(std::move(s)); });
    return f.get();
  }

  /// Subscriptions the simulator serves, from its status JSON.
  std::size_t sim_subscriptions() {
    const auto reply = sim_->command("status");
    const auto v = boost::json::parse(reply.substr(reply.find('{')));
    return v.at("subscriptions").as_array().size();
  }

  template <class Pred> static bool eventually(Pred pred, std::chrono::milliseconds t = 10s) {
    const auto until = std::chrono::steady_clock::now() + t;
    while (std::chrono::steady_clock::now() < until) {
      if (pred()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return pred();
  }

  void TearDown() override {
    if (hub_) {
      std::promise<void> p;
      hub_->shutdown([&p] { p.set_value(); });
      p.get_future().wait_for(5s);
    }
    if (sim_) sim_->stop();
    for (auto& r : recorders_) r->detach();
  }

  Loop sim_loop_;
  Loop hub_loop_;
  Loop client_loop_;
  std::vector<std::shared_ptr<Recorder>> recorders_;
  std::unique_ptr<sim::Simulator> sim_;
  std::shared_ptr<stream::Hub> hub_;
};

TEST_F(HubTest, ClientsOfOnePairShareOneUpstreamSubscriptionAndGetTheSameTicks) {
  start_sim();
  start_hub(hub_config());
  auto a = recorder();
  auto b = recorder();
  auto ra = open(a, kAapl, tws::TickType::bid_ask);
  ASSERT_FALSE(ra.error) << ra.error->message;
  EXPECT_EQ(ra.contract.symbol, "AAPL");
  EXPECT_EQ(ra.contract.sec_type, "STK");
  EXPECT_DOUBLE_EQ(ra.contract.min_tick, 0.01);
  EXPECT_EQ(ra.stream_key, "265598:BidAsk");
  ASSERT_TRUE(a->wait_ticks(3));
  auto rb = open(b, kAapl, tws::TickType::bid_ask);
  ASSERT_FALSE(rb.error);
  EXPECT_NE(ra.stream_id, rb.stream_id);
  ASSERT_TRUE(b->wait_ticks(5));
  EXPECT_EQ(sim_subscriptions(), 1u);
  EXPECT_EQ(rb.start, rb.live_from) << "a client joining a live stream starts live";
  // One log: the same ticks, the same bytes, in the same order.
  const auto tb = b->ticks_copy();
  ASSERT_TRUE(a->wait_ticks(tb[4].seq));
  const auto ta = a->ticks_copy();
  // The first client, which waited for the confirmation, reads the log from
  // its start (ticks that raced ahead of the confirmation included).
  EXPECT_EQ(ta.front().seq, 1u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(ta[tb[0].seq - 1 + i], tb[i]);
  const auto& sse = ta.front().sse;
  EXPECT_EQ(sse.rfind("id: 1\ndata: {\"type\":\"tick\",\"contract_id\":265598,", 0), 0u) << sse;
  auto snap = snapshot();
  ASSERT_EQ(snap.upstreams.size(), 1u);
  EXPECT_EQ(snap.upstreams[0].clients, 2u);
  EXPECT_EQ(snap.upstreams[0].tick_type, "BidAsk");
  EXPECT_EQ(snap.clients.size(), 2u);
  EXPECT_TRUE(snap.tws.connected);
  EXPECT_EQ(snap.tws.server_version, 187);

  // A second tick type is a second upstream subscription.
  auto c = recorder();
  ASSERT_FALSE(open(c, kAapl, tws::TickType::mid_point).error);
  EXPECT_EQ(sim_subscriptions(), 2u);
}

TEST_F(HubTest, UpstreamIsCancelledAfterTheLingerWhenTheLastClientLeaves) {
  start_sim();
  start_hub(hub_config());
  auto a = recorder();
  auto r = open(a, kAapl, tws::TickType::last);
  ASSERT_FALSE(r.error);
  ASSERT_EQ(sim_subscriptions(), 1u);
  hub_->close(r.stream_id);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(sim_subscriptions(), 1u) << "cancelled before the linger";
  EXPECT_TRUE(eventually([&] { return sim_subscriptions() == 0; }, 3s));
  EXPECT_TRUE(snapshot().upstreams.empty());
}

TEST_F(HubTest, ResumeReplaysExactlyWhatWasMissedOrCountsTheLoss) {
  start_sim();
  auto cfg = hub_config();
  cfg.log.max_entries = 20;
  cfg.linger = 5000ms;
  start_hub(cfg);
  auto a = recorder();
  auto r = open(a, kAapl, tws::TickType::bid_ask);
  ASSERT_FALSE(r.error);
  ASSERT_TRUE(a->wait_ticks(5));
  hub_->close(r.stream_id);
  const std::uint64_t seen = a->ticks_copy()[4].seq; // the client saw 5 ticks
  std::this_thread::sleep_for(200ms);
  auto b = recorder();
  auto rb = open(b, kAapl, tws::TickType::bid_ask, seen);
  ASSERT_FALSE(rb.error);
  EXPECT_EQ(rb.lost, 0u);
  EXPECT_FALSE(rb.resume_unknown);
  EXPECT_LT(rb.start, rb.live_from) << "ticks after the resume point are replayed";
  EXPECT_EQ(rb.seq_before_start, seen);
  ASSERT_TRUE(b->wait_ticks(10));
  const auto tb = b->ticks_copy();
  for (std::size_t i = 0; i < tb.size(); ++i)
    EXPECT_EQ(tb[i].seq, seen + 1 + i) << "replay, then live, without a gap";

  // Wait until more than the log holds has passed: the loss is counted.
  ASSERT_TRUE(b->wait_ticks(80));
  auto c = recorder();
  auto rc = open(c, kAapl, tws::TickType::bid_ask, 1);
  ASSERT_FALSE(rc.error);
  ASSERT_TRUE(c->wait_ticks(20));
  const auto first = c->ticks_copy().front().seq;
  // At least the 20 entries asked for are held, at most a chunk more.
  EXPECT_GE(rc.live_from - rc.start, 20u);
  EXPECT_LE(rc.live_from - rc.start, 20u + 20u / 4 + 16u);
  EXPECT_EQ(rc.lost, first - 2) << "ticks 2.." << first - 1 << " are gone";
  EXPECT_EQ(rc.seq_before_start, first - 1);
  auto d = recorder();
  EXPECT_TRUE(open(d, kAapl, tws::TickType::bid_ask, 999999).resume_unknown);
}

TEST_F(HubTest, UnknownContractIs404AndNoSubscriptionIsMade) {
  start_sim();
  start_hub(hub_config());
  auto a = recorder();
  auto r = open(a, 12345, tws::TickType::last);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->status, 404);
  EXPECT_EQ(r.error->code, "CONTRACT_NOT_FOUND");
  EXPECT_NE(r.error->message.find("12345"), std::string::npos);
  EXPECT_EQ(sim_subscriptions(), 0u);
}

TEST_F(HubTest, LimitsAnswer429) {
  sim::SimConfig sc;
  sc.max_tick_by_tick = 2;
  start_sim(sc);
  auto cfg = hub_config();
  cfg.max_streams = 3;
  cfg.max_clients = 4;
  start_hub(cfg);
  std::vector<std::shared_ptr<Recorder>> rs(6);
  for (auto& r : rs) r = recorder();
  ASSERT_FALSE(open(rs[0], kAapl, tws::TickType::bid_ask).error);
  ASSERT_FALSE(open(rs[1], kAapl, tws::TickType::mid_point).error);
  // The simulator allows two tick-by-tick subscriptions: TWS error 10190.
  auto r3 = open(rs[2], kAapl, tws::TickType::last);
  ASSERT_TRUE(r3.error);
  EXPECT_EQ(r3.error->status, 429);
  EXPECT_EQ(r3.error->code, "RATE_LIMIT_EXCEEDED");
  EXPECT_NE(r3.error->message.find("10190"), std::string::npos) << r3.error->message;
  EXPECT_GT(r3.error->retry_after_s, 0);
  // The two others are unharmed.
  const auto before = rs[0]->tick_count();
  EXPECT_TRUE(rs[0]->wait_ticks(before + 3));
  EXPECT_EQ(snapshot().upstreams.size(), 2u);
  // Client limit: 4 streams in all.
  ASSERT_FALSE(open(rs[3], kAapl, tws::TickType::bid_ask).error);
  ASSERT_FALSE(open(rs[4], kAapl, tws::TickType::bid_ask).error);
  auto r6 = open(rs[5], kAapl, tws::TickType::bid_ask);
  ASSERT_TRUE(r6.error);
  EXPECT_EQ(r6.error->status, 429);
}

TEST_F(HubTest, UpstreamLimitAnswers429BeforeAskingTws) {
  start_sim();
  auto cfg = hub_config();
  cfg.max_streams = 1;
  start_hub(cfg);
  auto a = recorder();
  auto b = recorder();
  ASSERT_FALSE(open(a, kAapl, tws::TickType::bid_ask).error);
  auto r = open(b, kAapl, tws::TickType::last);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->status, 429);
  EXPECT_NE(r.error->message.find("limit of 1"), std::string::npos) << r.error->message;
  EXPECT_EQ(sim_subscriptions(), 1u);
}

TEST_F(HubTest, NoPermissionIs403WithTheTwsErrorBeforeTheStreamStarts) {
  start_sim();
  start_hub(hub_config());
  auto a = recorder();
  auto r = open(a, kTsla, tws::TickType::last);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->status, 403);
  EXPECT_EQ(r.error->code, "TWS_ERROR_10089");
  EXPECT_NE(r.error->message.find("TSLA"), std::string::npos) << r.error->message;
  EXPECT_TRUE(snapshot().clients.empty());
  EXPECT_TRUE(snapshot().upstreams.empty());
  // Other streams are unharmed.
  auto b = recorder();
  ASSERT_FALSE(open(b, kAapl, tws::TickType::bid_ask).error);
  EXPECT_TRUE(b->wait_ticks(2));
}

TEST_F(HubTest, TwsAbsentMeans503AfterTheConnectWait) {
  auto cfg = hub_config();
  cfg.connect_wait = 300ms;
  start_hub(cfg);
  auto a = recorder();
  const auto t0 = std::chrono::steady_clock::now();
  auto r = open(a, kAapl, tws::TickType::last);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->status, 503);
  EXPECT_EQ(r.error->code, "TWS_UNAVAILABLE");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 250ms);
  auto snap = snapshot();
  EXPECT_FALSE(snap.tws.connected);
  EXPECT_FALSE(snap.tws.last_error.empty());
}

TEST_F(HubTest, StopEndsTheClientsOfThatContractAndCancelsUpstream) {
  start_sim();
  start_hub(hub_config());
  auto a = recorder();
  auto b = recorder();
  ASSERT_FALSE(open(a, kAapl, tws::TickType::bid_ask).error);
  ASSERT_FALSE(open(b, kAapl, tws::TickType::last).error);
  std::promise<std::vector<stream::StoppedStream>> p;
  hub_->stop(kAapl, [&p](std::vector<stream::StoppedStream> s) { p.set_value(std::move(s)); });
  auto stopped = p.get_future().get();
  EXPECT_EQ(stopped.size(), 2u);
  EXPECT_EQ(a->ended, stream::EndReason::stopped);
  EXPECT_EQ(b->ended, stream::EndReason::stopped);
  EXPECT_TRUE(eventually([&] { return sim_subscriptions() == 0; }));
  EXPECT_TRUE(snapshot().clients.empty());
}

TEST_F(HubTest, DroppedConnectionReconnectsAndResubscribes) {
  start_sim();
  start_hub(hub_config());
  auto a = recorder();
  ASSERT_FALSE(open(a, kAapl, tws::TickType::bid_ask).error);
  ASSERT_TRUE(a->wait_ticks(3));
  EXPECT_EQ(sim_->command("drop").rfind("ok", 0), 0u);
  ASSERT_TRUE(a->wait_notice("TWS_DISCONNECTED"));
  ASSERT_TRUE(a->wait_notice("reconnected"));
  const auto n = a->tick_count();
  EXPECT_TRUE(a->wait_ticks(n + 3));
  EXPECT_FALSE(a->ended.has_value());
  EXPECT_EQ(snapshot().tws.reconnects, 1u);
  EXPECT_EQ(sim_subscriptions(), 1u);
}

TEST_F(HubTest, DataLostResubscribes) {
  start_sim();
  start_hub(hub_config());
  auto a = recorder();
  ASSERT_FALSE(open(a, kAapl, tws::TickType::bid_ask).error);
  ASSERT_TRUE(a->wait_ticks(2));
  sim_->command("lost");
  ASSERT_TRUE(a->wait_notice("TWS_DISCONNECTED"));
  sim_->command("restored lost");
  ASSERT_TRUE(a->wait_notice("reconnected"));
  const auto n = a->tick_count();
  EXPECT_TRUE(a->wait_ticks(n + 3)) << "no ticks after 1101";
}

TEST_F(HubTest, SilentFarmFlapResubscribes) {
  start_sim();
  start_hub(hub_config());
  auto a = recorder();
  ASSERT_FALSE(open(a, kAapl, tws::TickType::bid_ask).error);
  ASSERT_TRUE(a->wait_ticks(2));
  sim_->command("farm-flap silent usfarm 200");
  ASSERT_TRUE(a->wait_notice("reconnected"));
  const auto n = a->tick_count();
  EXPECT_TRUE(a->wait_ticks(n + 3)) << "no ticks after the farm came back";
}

TEST_F(HubTest, WatchdogFlagsASilentStreamAndRerequestsIt) {
  start_sim();
  start_hub(hub_config());
  auto a = recorder();
  ASSERT_FALSE(open(a, kAapl, tws::TickType::bid_ask).error);
  ASSERT_TRUE(a->wait_ticks(3));
  const int first_req = snapshot().upstreams.at(0).req_id;
  sim_->command("silence 265598");
  ASSERT_TRUE(a->wait_notice("stale", 5s));
  EXPECT_TRUE(eventually([&] { return snapshot().upstreams.at(0).req_id != first_req; }, 3s))
      << "the watchdog did not re-request the silent stream";
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(eventually([&] { return sim_subscriptions() == 1; }, 3s))
      << "the old request was not cancelled, or the new one not made";
  sim_->command("unsilence 265598");
  ASSERT_TRUE(a->wait_notice("resumed", 5s));
  EXPECT_EQ(snapshot().upstreams.at(0).state, "live");
}

TEST_F(HubTest, ShutdownEndsEveryClient) {
  start_sim();
  start_hub(hub_config());
  auto a = recorder();
  ASSERT_FALSE(open(a, kAapl, tws::TickType::bid_ask).error);
  std::promise<void> p;
  hub_->shutdown([&p] { p.set_value(); });
  p.get_future().get();
  EXPECT_EQ(a->ended, stream::EndReason::shutdown);
  auto b = recorder();
  auto r = open(b, kAapl, tws::TickType::bid_ask);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->status, 503);
  hub_.reset();
}

} // namespace

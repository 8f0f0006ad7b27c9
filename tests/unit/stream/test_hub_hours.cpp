// stream::Hub and trading hours, against the in-process simulator: its
// `hours` admin command sets a contract's hours, the Hub's wall clock is
// shifted to put "now" right before a close or an open, and the simulator's
// `silence` stands for a market that sends nothing. Checks the closed state
// (no stale, no re-request), market_closed / market_open and their place in
// the log, the silence threshold after an open, doubted hours, unusable
// hours, and the refresh of the contract details.
#include "hours/trading_hours.hpp"
#include "io_loop.hpp"
#include "sim/simulator.hpp"
#include "stream/hub.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using SysClock = std::chrono::system_clock;

constexpr int kAapl = 265598;
// Two sessions of AAPL's zone (US/Eastern) and the closed night between.
constexpr const char* kHours = "20231115:0400-20231115:2000;20231116:0400-20231116:2000";

using test_support::Loop;

/// One client: its cursor in the stream's log; every event in order
/// ("tick" or the notice's code) and the SSE bytes of the notices.
class Client : public stream::Subscriber,
               public stream::LogConsumer,
               public std::enable_shared_from_this<Client> {
public:
  explicit Client(asio::io_context& loop) : loop_(loop) {}

  void start(const stream::OpenResult& r) {
    std::promise<void> done;
    asio::post(loop_, [&, self = shared_from_this()] {
      cursor_ = stream::LogCursor(r.log, r.start);
      readers_ = r.readers;
      readers_->add(this);
      on_log_advanced(); // what the log already holds
      done.set_value();
    });
    done.get_future().wait();
  }
  void detach() {
    std::promise<void> done;
    asio::post(loop_, [&, self = shared_from_this()] {
      if (readers_) readers_->remove(this);
      readers_.reset();
      done.set_value();
    });
    done.get_future().wait();
  }
  void on_log_advanced() override {
    std::lock_guard lock(m_);
    while (const auto* e = cursor_.get()) {
      events_.emplace_back(e->is_tick() ? "tick" : std::string(e->code));
      if (!e->is_tick()) notice_sse_.emplace_back(e->sse);
      cursor_.advance();
    }
    cv_.notify_all();
  }
  void end(stream::EndReason, const std::optional<stream::Notice>&) override {}

  bool wait_event(const std::string& code, std::chrono::milliseconds t = 10s) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, t, [&] { return count_locked(code) > 0; });
  }
  bool wait_count(const std::string& code, std::size_t n, std::chrono::milliseconds t = 10s) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, t, [&] { return count_locked(code) >= n; });
  }
  std::size_t count(const std::string& code) {
    std::lock_guard lock(m_);
    return count_locked(code);
  }
  std::vector<std::string> events() {
    std::lock_guard lock(m_);
    return events_;
  }
  std::string notice_sse(const std::string& code) {
    std::lock_guard lock(m_);
    for (const auto& s : notice_sse_)
      if (s.find("\"code\":\"" + code + "\"") != std::string::npos) return s;
    return {};
  }

private:
  std::size_t count_locked(const std::string& code) const {
    return static_cast<std::size_t>(std::count(events_.begin(), events_.end(), code));
  }
  asio::io_context& loop_;
  stream::LogCursor cursor_;
  std::shared_ptr<stream::ReaderGroup> readers_;
  std::vector<std::string> events_;
  std::vector<std::string> notice_sse_;
  std::mutex m_;
  std::condition_variable cv_;
};

class HubHoursTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto zone = hours::TimeZone::load("US/Eastern");
    schedule_ = hours::parse_hours(kHours, *zone);
    ASSERT_EQ(schedule_.sessions.size(), 2u);
    close_ = schedule_.sessions[0].close;
    open_ = schedule_.sessions[1].open;
    log_path_ = std::filesystem::temp_directory_path() /
                ("ibs_hub_hours_" + std::to_string(::getpid()) + ".log");
    std::filesystem::remove(log_path_);
  }

  void start_sim() {
    sim::SimConfig c;
    c.port = 0;
    c.start_time = 1700000000;
    c.default_rate = 50.0;
    c.request_log_path = log_path_.string();
    c.client_id_hold_seconds = 0.3;
    sim_ = std::make_unique<sim::Simulator>(sim_loop_.ioc, c);
    sim_->start();
  }

  /// The Hub's clock reads `unix_s` now, and runs on from there.
  void set_clock(double unix_s) {
    const auto real = SysClock::now().time_since_epoch();
    offset_us_ = static_cast<std::int64_t>(unix_s * 1e6) -
                 std::chrono::duration_cast<std::chrono::microseconds>(real).count();
  }

  stream::HubConfig hub_config() {
    stream::HubConfig c;
    c.tws.ports = {sim_->port()};
    c.tws.client_id = 9;
    c.tws.connect_timeout = 2000ms;
    c.connect_wait = 3000ms;
    c.linger = 300ms;
    c.backoff_initial = 100ms;
    c.backoff_max = 500ms;
    c.watchdog_min_silence = 1000ms;
    c.same_request_spacing = 200ms;
    c.wall_clock = [this] {
      return SysClock::now() + std::chrono::microseconds(offset_us_.load());
    };
    return c;
  }

  void start_hub(stream::HubConfig c) {
    hub_ = stream::Hub::create(hub_loop_.ioc.get_executor(), std::move(c));
    hub_->start();
  }

  std::shared_ptr<Client> open(int con_id = kAapl, tws::TickType t = tws::TickType::bid_ask) {
    auto c = clients_.emplace_back(std::make_shared<Client>(client_loop_.ioc));
    stream::OpenRequest req;
    req.con_id = con_id;
    req.tick_type = t;
    req.loop = &client_loop_.ioc;
    std::promise<stream::OpenResult> p;
    hub_->open(req, c, [&p](stream::OpenResult r) { p.set_value(std::move(r)); });
    auto r = p.get_future().get();
    EXPECT_FALSE(r.error) << r.error->message;
    if (!r.error) c->start(r);
    return c;
  }

  stream::HubSnapshot::Upstream upstream() {
    std::promise<stream::HubSnapshot> p;
    hub_->snapshot([&p](stream::HubSnapshot s) { p.set_value(std::move(s)); });
    auto s = p.get_future().get();
    EXPECT_EQ(s.upstreams.size(), 1u);
    return s.upstreams.empty() ? stream::HubSnapshot::Upstream{} : s.upstreams.front();
  }

  /// Requests of `msg` in the simulator's request log.
  std::size_t sim_requests(const std::string& msg) {
    std::ifstream in(log_path_);
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);)
      if (line.find("\"msg\":\"" + msg + "\"") != std::string::npos) ++n;
    return n;
  }

  std::string sim(const std::string& command) {
    auto reply = sim_->command(command);
    EXPECT_EQ(reply.rfind("ok", 0), 0u) << command << ": " << reply;
    return reply;
  }

  void TearDown() override {
    if (hub_) {
      std::promise<void> p;
      hub_->shutdown([&p] { p.set_value(); });
      p.get_future().wait_for(5s);
    }
    if (sim_) sim_->stop();
    for (auto& c : clients_) c->detach();
    std::filesystem::remove(log_path_);
  }

  hours::Schedule schedule_;
  std::int64_t close_ = 0, open_ = 0;
  std::filesystem::path log_path_;
  std::atomic<std::int64_t> offset_us_{0};
  Loop sim_loop_;
  Loop hub_loop_;
  Loop client_loop_;
  std::vector<std::shared_ptr<Client>> clients_;
  std::unique_ptr<sim::Simulator> sim_;
  std::shared_ptr<stream::Hub> hub_;
};

TEST_F(HubHoursTest, ClosedAtTheCloseNoStaleNoRerequestThenMarketOpenBeforeTheFirstTick) {
  start_sim();
  sim(std::string("hours 265598 ") + kHours);
  set_clock(static_cast<double>(close_) - 3.0);
  start_hub(hub_config());
  auto c = open();
  ASSERT_TRUE(c->wait_count("tick", 3));
  EXPECT_EQ(upstream().state, "live");
  const int req_id = upstream().req_id;
  // The market goes quiet, then the close passes.
  sim("silence 265598");
  std::this_thread::sleep_for(300ms);
  set_clock(static_cast<double>(close_) + 0.1);
  ASSERT_TRUE(c->wait_event("market_closed", 3s));
  EXPECT_EQ(upstream().state, "closed");
  const auto sse = c->notice_sse("market_closed");
  const auto next = "2023-11-16T09:00:00.000Z"; // 04:00 New York
  EXPECT_NE(sse.find(std::string("\"details\":\"") + next + "\""), std::string::npos) << sse;
  EXPECT_NE(sse.find(std::string("\"next_open\":\"") + next + "\""), std::string::npos) << sse;
  EXPECT_NE(sse.find("AAPL (265598) BidAsk"), std::string::npos) << sse;
  // Three times the silence threshold: closed, not stale, not re-requested.
  std::this_thread::sleep_for(3s);
  const auto u = upstream();
  EXPECT_EQ(u.state, "closed");
  EXPECT_EQ(u.req_id, req_id) << "re-requested while the market was closed";
  EXPECT_EQ(c->count("stale"), 0u);
  EXPECT_EQ(c->count("market_closed"), 1u);
  EXPECT_EQ(sim_requests("reqTickByTickData"), 1u);
  // The open: ticks again, market_open right before the first one.
  set_clock(static_cast<double>(open_) + 0.1);
  std::this_thread::sleep_for(400ms);
  const auto ticks_before = c->count("tick");
  sim("unsilence 265598");
  ASSERT_TRUE(c->wait_event("market_open", 5s));
  ASSERT_TRUE(c->wait_count("tick", ticks_before + 3));
  const auto ev = c->events();
  const auto at = std::find(ev.begin(), ev.end(), "market_open");
  ASSERT_NE(at, ev.end());
  EXPECT_EQ(std::count(ev.begin(), at, "tick"), static_cast<long>(ticks_before));
  ASSERT_NE(at + 1, ev.end());
  EXPECT_EQ(*(at + 1), "tick");
  EXPECT_EQ(c->count("market_open"), 1u);
  EXPECT_EQ(c->count("stale"), 0u);
  EXPECT_EQ(upstream().state, "live");
  EXPECT_EQ(upstream().req_id, req_id);
}

TEST_F(HubHoursTest, SilenceAfterTheOpenIsStaleCountedFromTheOpenAndRerequested) {
  start_sim();
  sim(std::string("hours 265598 ") + kHours);
  set_clock(static_cast<double>(close_) - 3.0);
  start_hub(hub_config());
  auto c = open();
  ASSERT_TRUE(c->wait_count("tick", 3));
  sim("silence 265598");
  std::this_thread::sleep_for(300ms);
  set_clock(static_cast<double>(close_) + 0.1);
  ASSERT_TRUE(c->wait_event("market_closed", 3s));
  const int req_id = upstream().req_id;
  // Open, and still silent: not stale at once (the last tick was hours ago
  // by this clock), stale after the threshold, and re-requested.
  set_clock(static_cast<double>(open_) + 0.05);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(c->count("stale"), 0u);
  EXPECT_EQ(upstream().state, "live");
  ASSERT_TRUE(c->wait_event("stale", 3s));
  EXPECT_TRUE([&] {
    for (int i = 0; i < 100; ++i) {
      if (upstream().req_id != req_id) return true;
      std::this_thread::sleep_for(30ms);
    }
    return false;
  }()) << "the silent stream was not re-requested after the open";
  EXPECT_TRUE([&] {
    for (int i = 0; i < 100 && sim_requests("reqTickByTickData") < 2; ++i)
      std::this_thread::sleep_for(20ms);
    return sim_requests("reqTickByTickData") >= 2;
  }()) << "the simulator got no second request";
  sim("unsilence 265598");
  ASSERT_TRUE(c->wait_event("market_open", 5s));
  ASSERT_TRUE(c->wait_event("resumed", 5s));
}

TEST_F(HubHoursTest, AStreamOpenedWhileClosedIsClosedAtOnce) {
  start_sim();
  sim(std::string("hours 265598 ") + kHours);
  sim("silence 265598");
  set_clock(static_cast<double>(close_) + 600.0);
  start_hub(hub_config());
  auto c = open();
  ASSERT_TRUE(c->wait_event("market_closed", 2s));
  EXPECT_EQ(upstream().state, "closed");
  const int req_id = upstream().req_id;
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(c->count("stale"), 0u);
  EXPECT_EQ(upstream().req_id, req_id);
  EXPECT_EQ(upstream().state, "closed");
  // A TWS connection lost and back while closed: re-requested as always,
  // closed again without a second market_closed.
  sim("drop");
  ASSERT_TRUE(c->wait_event("reconnected", 5s));
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(upstream().state, "closed");
  EXPECT_EQ(c->count("market_closed"), 1u);
  EXPECT_EQ(c->count("stale"), 0u);
  // A client that joins the closed stream learns it at once, from the same
  // notice (and what followed it: the reconnection), once.
  auto late = open();
  ASSERT_TRUE(late->wait_event("market_closed", 2s));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(late->count("market_closed"), 1u);
  EXPECT_EQ(late->count("tick"), 0u);
  EXPECT_EQ(c->count("market_closed"), 1u) << "nothing new for the first client";
}

TEST_F(HubHoursTest, TicksWhileTheHoursSayClosedMakeThemDoubtedAndTheWatchdogWorks) {
  start_sim();
  sim(std::string("hours 265598 ") + kHours);
  set_clock(static_cast<double>(close_) + 600.0);
  start_hub(hub_config());
  auto c = open(); // the simulator ticks whatever the hours say
  ASSERT_TRUE(c->wait_count("tick", 5));
  EXPECT_LE(c->count("market_closed"), 1u);
  EXPECT_EQ(c->count("market_open"), c->count("market_closed"));
  EXPECT_EQ(upstream().state, "live");
  sim("silence 265598");
  ASSERT_TRUE(c->wait_event("stale", 4s)) << "doubted hours must not hide a silent stream";
}

TEST_F(HubHoursTest, AnInstantOutsideTheCoveredSpanIsUnknownAndBehavesAsWithoutHours) {
  start_sim();
  sim(std::string("hours 265598 ") + kHours);
  // A month after the span the hours cover: nothing is known.
  set_clock(static_cast<double>(close_) + 86400.0 * 30);
  start_hub(hub_config());
  auto c = open();
  ASSERT_TRUE(c->wait_count("tick", 3));
  sim("silence 265598");
  ASSERT_TRUE(c->wait_event("stale", 4s));
  EXPECT_EQ(c->count("market_closed"), 0u);
}

TEST_F(HubHoursTest, DetailsAreRerequestedWhenTheirSpanRunsOutAndNewHoursApply) {
  start_sim();
  sim(std::string("hours 265598 ") + kHours);
  set_clock(static_cast<double>(close_) - 60.0);
  auto cfg = hub_config();
  cfg.hours_refresh_margin = 48h; // the covered span ends within it
  cfg.hours_refresh_retry = 300ms;
  start_hub(cfg);
  auto c = open();
  ASSERT_TRUE(c->wait_count("tick", 3));
  const auto first = sim_requests("reqContractDetails");
  // New hours: the first session ended an hour earlier (closed now).
  sim("hours 265598 20231115:0400-20231115:1900;20231116:0400-20231116:2000");
  sim("silence 265598");
  std::this_thread::sleep_for(300ms);
  set_clock(static_cast<double>(close_) - 3600.0 + 0.1); // right after the new close
  ASSERT_TRUE(c->wait_event("market_closed", 5s)) << "the new hours were not applied";
  EXPECT_GT(sim_requests("reqContractDetails"), first);
  EXPECT_EQ(upstream().state, "closed");
}

} // namespace

#include "ws/ip_connection_limiter.hpp"
#include "ws/message_rate_limiter.hpp"
#include "ws/ws_limits.hpp"
#include "ws/ws_stats.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <thread>

using namespace std::chrono_literals;

namespace {

struct FakeClock {
  std::chrono::steady_clock::time_point now{std::chrono::seconds(1000)};
  auto fn() {
    return [this] { return now; };
  }
};

} // namespace

TEST(WsIpConnectionLimiter, CapsEachIpSeparately) {
  ws::IpConnectionLimiter l(2);
  EXPECT_TRUE(l.try_acquire("10.0.0.1"));
  EXPECT_TRUE(l.try_acquire("10.0.0.1"));
  EXPECT_FALSE(l.try_acquire("10.0.0.1"));
  EXPECT_TRUE(l.try_acquire("10.0.0.2"));
  EXPECT_EQ(l.count("10.0.0.1"), 2u);
  EXPECT_EQ(l.count("10.0.0.3"), 0u);
  EXPECT_EQ(l.total(), 3u);
  EXPECT_EQ(l.counts(), (std::map<std::string, std::size_t>{{"10.0.0.1", 2}, {"10.0.0.2", 1}}));
  l.release("10.0.0.1");
  EXPECT_TRUE(l.try_acquire("10.0.0.1"));
  l.release("10.0.0.2");
  l.release("10.0.0.2"); // stray release: ignored
  EXPECT_EQ(l.counts(), (std::map<std::string, std::size_t>{{"10.0.0.1", 2}}));
  EXPECT_EQ(l.total(), 2u);
}

TEST(WsIpConnectionLimiter, LeaseReleasesOnDestructionAndMove) {
  ws::IpConnectionLimiter l(1);
  {
    auto a = l.acquire("::1");
    ASSERT_TRUE(a);
    EXPECT_FALSE(l.acquire("::1"));
    ws::IpConnectionLimiter::Lease moved = std::move(*a);
    EXPECT_EQ(moved.ip(), "::1");
    EXPECT_EQ(l.count("::1"), 1u);
  }
  EXPECT_EQ(l.count("::1"), 0u);
  auto b = l.acquire("::1");
  ASSERT_TRUE(b);
  b->release();
  b->release();
  EXPECT_EQ(l.total(), 0u);
}

TEST(WsIpConnectionLimiter, ZeroRefusesAll) {
  ws::IpConnectionLimiter l(0);
  EXPECT_FALSE(l.try_acquire("1.2.3.4"));
  EXPECT_TRUE(l.counts().empty());
}

TEST(WsIpConnectionLimiter, ConcurrentAcquireNeverExceedsTheCap) {
  ws::IpConnectionLimiter l(10);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i)
        if (l.try_acquire("a")) ++granted;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted, 10);
  EXPECT_EQ(l.count("a"), 10u);
}

TEST(WsMessageRateLimiter, SlidingWindow) {
  FakeClock clock;
  ws::MessageRateLimiter r(3, 1s, clock.fn());
  EXPECT_TRUE(r.try_accept());
  clock.now += 300ms;
  EXPECT_TRUE(r.try_accept());
  EXPECT_TRUE(r.try_accept());
  EXPECT_FALSE(r.try_accept()); // 4th within 1 s
  EXPECT_EQ(r.rejected(), 1u);
  clock.now += 699ms; // the first is 999 ms old: still inside
  EXPECT_FALSE(r.try_accept());
  clock.now += 1ms; // exactly 1 s old: out
  EXPECT_TRUE(r.try_accept());
  EXPECT_FALSE(r.try_accept()); // the two at +300 ms are still inside
  clock.now += 300ms;
  EXPECT_TRUE(r.try_accept());
  EXPECT_TRUE(r.try_accept());
  EXPECT_FALSE(r.try_accept());
  EXPECT_EQ(r.rejected(), 4u);
}

TEST(WsMessageRateLimiter, HundredPerSecondSustained) {
  FakeClock clock;
  ws::MessageRateLimiter r(100, 1s, clock.fn());
  // 100 per second evenly spaced is fine forever...
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(r.try_accept()) << i;
    clock.now += 10ms;
  }
  // ...a burst of 101 at once is not.
  clock.now += 2s;
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(r.try_accept());
  EXPECT_FALSE(r.try_accept());
}

TEST(WsLimits, SubscriptionLimit) {
  EXPECT_FALSE(ws::check_subscription_limit(0, 1, 20));
  EXPECT_FALSE(ws::check_subscription_limit(16, 4, 20));
  EXPECT_EQ(ws::check_subscription_limit(19, 2, 20),
            "subscription limit reached: 19 active + 2 requested > 20 per connection; "
            "unsubscribe first or open another connection");
  EXPECT_TRUE(ws::check_subscription_limit(20, 1, 20));
}

TEST(WsStats, CountersAndRates) {
  FakeClock clock;
  ws::WsStats s(10s, clock.fn());
  s.connection_opened();
  s.connection_opened();
  s.connection_closed();
  s.connection_rejected();
  s.subscriptions_added(4);
  s.subscriptions_removed(1);
  for (int i = 0; i < 20; ++i) s.message_received();
  s.messages_sent(200);
  s.invalid_message();
  s.rate_limited();
  clock.now += 4s;
  auto snap = s.snapshot();
  EXPECT_EQ(snap.active_connections, 1u);
  EXPECT_EQ(snap.total_connections, 2u);
  EXPECT_EQ(snap.rejected_connections, 1u);
  EXPECT_EQ(snap.active_subscriptions, 3u);
  EXPECT_EQ(snap.total_subscriptions, 4u);
  EXPECT_EQ(snap.messages_received, 20u);
  EXPECT_EQ(snap.messages_sent, 200u);
  EXPECT_EQ(snap.invalid_messages, 1u);
  EXPECT_EQ(snap.rate_limited, 1u);
  EXPECT_DOUBLE_EQ(snap.received_per_second, 5.0);
  EXPECT_DOUBLE_EQ(snap.sent_per_second, 50.0);

  // Sampled every second: after 10 quiet seconds the burst has left the window.
  for (int i = 0; i < 10; ++i) {
    clock.now += 1s;
    s.sample();
  }
  s.messages_sent(30);
  clock.now += 1s;
  snap = s.snapshot();
  // Baseline: the sample at or before now - 10 s (4 quiet s + burst before).
  EXPECT_DOUBLE_EQ(snap.received_per_second, 0.0);
  EXPECT_DOUBLE_EQ(snap.sent_per_second, 3.0);
}

TEST(WsStats, ActiveCountsNeverWrap) {
  FakeClock clock;
  ws::WsStats s(10s, clock.fn());
  s.connection_closed();
  s.subscriptions_removed(3);
  const auto snap = s.snapshot();
  EXPECT_EQ(snap.active_connections, 0u);
  EXPECT_EQ(snap.active_subscriptions, 0u);
  EXPECT_EQ(snap.received_per_second, 0.0);
}

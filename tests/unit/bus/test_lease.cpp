// bus::Lease against a real nats-server with JetStream: acquire, exclusion,
// renewal, expiry after the ttl, loss, release. Skipped when nats-server is
// missing.
#include "nats_test_server.hpp"

using namespace std::chrono_literals;
using bus_test::eventually;
using bus_test::NatsServer;

TEST(BusLease, AcquireRenewExpireRelease) {
  if (!bus_test::nats_server_available()) GTEST_SKIP() << bus_test::nats_server_missing;
  NatsServer server;
  server.start();
  auto link_a = bus::Link::connect(bus_test::test_options(server.url()), nullptr);
  auto link_b = bus::Link::connect(bus_test::test_options(server.url()), nullptr);
  const auto ttl = 1000ms;
  bus::Lease a(link_a, "IBS_TEST_LEASE", "publisher", ttl);
  bus::Lease b(link_b, "IBS_TEST_LEASE", "publisher", ttl);

  EXPECT_EQ(a.holder(), "");
  ASSERT_TRUE(a.try_acquire("A"));
  EXPECT_TRUE(a.held());
  EXPECT_FALSE(b.try_acquire("B"));
  EXPECT_FALSE(b.held());
  EXPECT_EQ(b.holder(), "A");
  EXPECT_FALSE(b.renew()) << "B never held it";

  // Renewed within the ttl, A keeps it past the first ttl.
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(400ms);
    ASSERT_TRUE(a.renew());
  }
  EXPECT_FALSE(b.try_acquire("B"));

  // A stops renewing: after the ttl B takes it, and A's renewal fails.
  auto stopped = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return b.try_acquire("B"); }, 5000ms));
  EXPECT_GE(std::chrono::steady_clock::now() - stopped, ttl - 100ms);
  EXPECT_EQ(a.holder(), "B");
  EXPECT_FALSE(a.renew());
  EXPECT_FALSE(a.held());
  a.release(); // not held: leaves B's lease alone
  EXPECT_EQ(b.holder(), "B");
  EXPECT_TRUE(b.renew());

  // B releases: A takes it at once.
  b.release();
  EXPECT_FALSE(b.held());
  EXPECT_EQ(a.holder(), "");
  ASSERT_TRUE(a.try_acquire("A"));
  EXPECT_EQ(b.holder(), "A");
}

TEST(BusLease, StaleReleaseDoesNotDeleteTheNewHoldersLease) {
  if (!bus_test::nats_server_available()) GTEST_SKIP() << bus_test::nats_server_missing;
  NatsServer server;
  server.start();
  auto link = bus::Link::connect(bus_test::test_options(server.url()), nullptr);
  bus::Lease a(link, "IBS_TEST_LEASE2", "publisher", 500ms);
  bus::Lease b(link, "IBS_TEST_LEASE2", "publisher", 500ms);
  ASSERT_TRUE(a.try_acquire("A"));
  ASSERT_TRUE(eventually([&] { return b.try_acquire("B"); }, 5000ms));
  // A has not noticed yet (held() is what it last knew): its release must
  // not delete B's key.
  EXPECT_TRUE(a.held());
  a.release();
  EXPECT_FALSE(a.held());
  EXPECT_EQ(b.holder(), "B");
  EXPECT_TRUE(b.renew());
}

TEST(BusLease, WaitsForNatsAndRejectsBadArguments) {
  if (!bus_test::nats_server_available()) GTEST_SKIP() << bus_test::nats_server_missing;
  NatsServer server; // not started yet
  auto options = bus_test::test_options(server.url());
  options.request_timeout = 300ms;
  auto link = bus::Link::connect(options, nullptr);
  EXPECT_THROW(bus::Lease(link, "", "k", 1s), bus::Error);
  EXPECT_THROW(bus::Lease(link, "B", "k", 0ms), bus::Error);
  EXPECT_THROW(bus::Lease(nullptr, "B", "k", 1s), bus::Error);
  bus::Lease lease(link, "IBS_TEST_LEASE3", "publisher", 1s); // NATS is down: opened later
  EXPECT_THROW(lease.try_acquire("A"), bus::Error);
  server.start();
  ASSERT_TRUE(eventually([&] { return link->connected(); }));
  EXPECT_TRUE(lease.try_acquire("A"));
  EXPECT_EQ(lease.holder(), "A");
}

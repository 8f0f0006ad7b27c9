// bus::Link against a real nats-server with JetStream (started by the
// tests on a free loopback port): connection states across a late start and
// a restart, core NATS, JetStream streams, sequences, purges and ordered
// consumers. Skipped when /usr/bin/nats-server is missing.
#include "nats_test_server.hpp"

#include <atomic>

using namespace std::chrono_literals;
using bus_test::eventually;
using bus_test::Inbox;
using bus_test::NatsServer;
using bus_test::StateLog;

namespace {

/// One server for the tests that do not restart it.
class BusLink : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    if (!bus_test::nats_server_available()) return;
    server_ = new NatsServer;
    server_->start();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << bus_test::nats_server_missing;
    link_ = bus::Link::connect(bus_test::test_options(server_->url()), states_.callback());
    ASSERT_TRUE(link_->connected());
  }
  void TearDown() override {
    if (link_) link_->close();
  }

  /// Waits until every js_publish is acknowledged.
  void settle() {
    ASSERT_TRUE(eventually([&] { return link_->pending_publishes() == 0; }));
  }

  static NatsServer* server_;
  StateLog states_;
  std::shared_ptr<bus::Link> link_;
};

NatsServer* BusLink::server_ = nullptr;

bus::StreamConfig stream_config(const std::string& name) {
  bus::StreamConfig c;
  c.name = name;
  c.subjects = {"test." + name};
  c.max_age = std::chrono::seconds(3600);
  return c;
}

} // namespace

TEST(BusLinkServer, ConnectsWhenTheServerStartsLaterAndAfterARestart) {
  if (!bus_test::nats_server_available()) GTEST_SKIP() << bus_test::nats_server_missing;
  NatsServer server;
  StateLog states;
  auto link = bus::Link::connect(bus_test::test_options(server.url()), states.callback());
  // The initial state comes before connect() returns.
  ASSERT_EQ(states.all().size(), 1u);
  EXPECT_EQ(states.all()[0].first, bus::LinkState::disconnected);
  EXPECT_FALSE(link->connected());
  EXPECT_NE(link->status_text().find("disconnected"), std::string::npos) << link->status_text();

  server.start();
  ASSERT_TRUE(eventually([&] { return states.count(bus::LinkState::connected) == 1; }));
  EXPECT_TRUE(link->connected());
  EXPECT_NE(link->status_text().find(std::to_string(server.port())), std::string::npos);
  link->ensure_stream(stream_config("RESTART"));
  ASSERT_TRUE(link->js_publish("test.RESTART", "one", {}, 0, "r-1"));
  ASSERT_TRUE(eventually([&] { return link->pending_publishes() == 0; }));

  server.stop();
  ASSERT_TRUE(eventually([&] { return states.count(bus::LinkState::disconnected) == 2; }));
  EXPECT_FALSE(link->connected());
  EXPECT_FALSE(link->js_publish("test.RESTART", "lost", {}, 1, "r-2")) << "not connected";

  server.start(); // same port, same store
  ASSERT_TRUE(eventually([&] { return states.count(bus::LinkState::connected) == 2; }));
  auto state = link->stream_state("RESTART");
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->last_seq, 1u);
  EXPECT_EQ(state->messages, 1u);

  // A stream moved forward by purge_to keeps its numbering across a restart
  // (the restarted server counts from its store again).
  std::atomic<int> failures{0};
  link->on_publish_failure([&](const bus::PublishFailure& f) {
    ADD_FAILURE() << f.msg_id << ": " << f.error;
    ++failures;
  });
  link->purge_to("RESTART", 1001);
  ASSERT_TRUE(link->js_publish("test.RESTART", "1001", {}, 1000, "r-1001"));
  ASSERT_TRUE(eventually([&] { return link->pending_publishes() == 0; }));
  server.stop();
  server.start();
  ASSERT_TRUE(eventually([&] { return states.count(bus::LinkState::connected) == 3; }));
  ASSERT_TRUE(link->js_publish("test.RESTART", "1002", {}, 1001, "r-1002"));
  ASSERT_TRUE(eventually([&] { return link->pending_publishes() == 0; }));
  EXPECT_EQ(failures.load(), 0);
  state = link->stream_state("RESTART");
  EXPECT_EQ(state->first_seq, 1001u);
  EXPECT_EQ(state->last_seq, 1002u);

  link->close();
  auto all = states.all();
  EXPECT_EQ(all.back().first, bus::LinkState::closed);
  EXPECT_FALSE(link->connected());
  link->close(); // idempotent
  EXPECT_EQ(states.all().size(), all.size());
}

TEST(BusLinkServer, RejectsUnusableOptions) {
  bus::LinkOptions o;
  EXPECT_THROW(bus::Link::connect(o, nullptr), bus::Error);
  o.url = "nats://127.0.0.1:1";
  o.max_pending_publishes = 0;
  EXPECT_THROW(bus::Link::connect(o, nullptr), bus::Error);
}

TEST_F(BusLink, PublishSubscribeWithHeaders) {
  Inbox inbox;
  auto sub = link_->subscribe("test.core.>", inbox.handler());
  // The subscription reaches the server before the publish (same connection).
  link_->publish("test.core.a", std::string("pay\0load", 8), {{"X-One", "1"}, {"X-Two", "2"}});
  link_->publish("test.core.b", "plain");
  ASSERT_TRUE(inbox.wait_for(2));
  auto m = inbox.messages();
  EXPECT_EQ(m[0].subject, "test.core.a");
  EXPECT_EQ(m[0].data, std::string("pay\0load", 8));
  EXPECT_EQ(m[0].header("X-One"), "1");
  EXPECT_EQ(m[0].header("X-Two"), "2");
  EXPECT_EQ(m[0].header("X-Three"), "");
  EXPECT_EQ(m[0].stream_seq, 0u);
  EXPECT_EQ(m[1].subject, "test.core.b");
  EXPECT_TRUE(m[1].headers.empty());
  EXPECT_THROW(link_->publish("", "x"), bus::Error);
}

TEST_F(BusLink, QueueSubscribersShareMessages) {
  Inbox a, b, all;
  auto sa = link_->subscribe("test.queue", a.handler(), "workers");
  auto sb = link_->subscribe("test.queue", b.handler(), "workers");
  auto s_all = link_->subscribe("test.queue", all.handler());
  for (int i = 0; i < 50; ++i) link_->publish("test.queue", std::to_string(i));
  ASSERT_TRUE(all.wait_for(50));
  ASSERT_TRUE(eventually([&] { return a.size() + b.size() == 50; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(a.size() + b.size(), 50u) << "each message once in the group";
}

TEST_F(BusLink, RequestReplyTimeoutAndNoResponders) {
  auto responder = link_->subscribe(
      "test.echo", [this](bus::Message&& m) { link_->respond(m, "echo:" + m.data); });
  Inbox silent_inbox;
  auto silent = link_->subscribe("test.silent", silent_inbox.handler());

  struct Result {
    std::mutex mutex;
    std::vector<std::pair<std::optional<bus::Message>, std::string>> calls;
  };
  auto result = std::make_shared<Result>();
  auto record = [result](std::optional<bus::Message> m, std::string error) {
    std::lock_guard lock(result->mutex);
    result->calls.emplace_back(std::move(m), std::move(error));
  };
  auto calls = [result] {
    std::lock_guard lock(result->mutex);
    return result->calls.size();
  };

  link_->request("test.echo", "hi", 2000ms, record);
  ASSERT_TRUE(eventually([&] { return calls() == 1; }));
  {
    std::lock_guard lock(result->mutex);
    ASSERT_TRUE(result->calls[0].first.has_value()) << result->calls[0].second;
    EXPECT_EQ(result->calls[0].first->data, "echo:hi");
  }

  auto start = std::chrono::steady_clock::now();
  link_->request("test.silent", "anyone?", 200ms, record);
  ASSERT_TRUE(eventually([&] { return calls() == 2; }));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 190ms);
  link_->request("test.nobody", "anyone?", 2000ms, record);
  ASSERT_TRUE(eventually([&] { return calls() == 3; }));
  std::this_thread::sleep_for(300ms); // and each completion runs once only
  std::lock_guard lock(result->mutex);
  ASSERT_EQ(result->calls.size(), 3u);
  EXPECT_FALSE(result->calls[1].first.has_value());
  EXPECT_EQ(result->calls[1].second, "timeout");
  EXPECT_EQ(silent_inbox.size(), 1u);
  EXPECT_FALSE(result->calls[2].first.has_value());
  EXPECT_EQ(result->calls[2].second, "no responders");
}

TEST_F(BusLink, EnsureStreamCreatesThenUpdatesLimits) {
  EXPECT_FALSE(link_->stream_state("LIMITS").has_value());
  auto created = link_->ensure_stream(stream_config("LIMITS"));
  EXPECT_EQ(created.last_seq, 0u);
  EXPECT_FALSE(created.created.empty());
  EXPECT_EQ(created.created.back(), 'Z');
  EXPECT_EQ(link_->ensure_stream(stream_config("LIMITS")).created, created.created);

  std::string payload(200, 'x');
  for (std::uint64_t i = 0; i < 40; ++i) {
    ASSERT_TRUE(link_->js_publish("test.LIMITS", payload, {}, i, "l-" + std::to_string(i)));
  }
  settle();
  EXPECT_EQ(link_->stream_state("LIMITS")->messages, 40u);

  auto limited = stream_config("LIMITS");
  limited.max_bytes = 2000; // about 7 of those messages
  auto updated = link_->ensure_stream(limited);
  EXPECT_EQ(updated.last_seq, 40u);
  EXPECT_LT(updated.messages, 40u);
  EXPECT_GT(updated.first_seq, 1u);
  EXPECT_EQ(updated.created, created.created);

  EXPECT_THROW(link_->ensure_stream(stream_config("")), bus::Error);
  EXPECT_THROW(link_->stream_state("bad.name"), bus::Error);
}

TEST_F(BusLink, JsPublishSequencesWrongLastSequenceAndDuplicates) {
  std::mutex mutex;
  std::vector<bus::PublishFailure> failures;
  link_->on_publish_failure([&](const bus::PublishFailure& f) {
    std::lock_guard lock(mutex);
    failures.push_back(f);
  });
  link_->ensure_stream(stream_config("SEQ"));
  Inbox inbox;
  auto consumer = link_->ordered("SEQ", "test.SEQ", 1, inbox.handler());
  for (std::uint64_t i = 0; i < 20; ++i) {
    ASSERT_TRUE(link_->js_publish("test.SEQ", "m" + std::to_string(i + 1),
                                  {{"X-I", std::to_string(i)}}, i, "seq-" + std::to_string(i + 1)));
  }
  settle();
  auto state = link_->stream_state("SEQ");
  EXPECT_EQ(state->first_seq, 1u);
  EXPECT_EQ(state->last_seq, 20u);
  ASSERT_TRUE(inbox.wait_for(20));
  auto got = inbox.messages();
  for (std::uint64_t i = 0; i < 20; ++i) {
    EXPECT_EQ(got[i].stream_seq, i + 1);
    EXPECT_EQ(got[i].data, "m" + std::to_string(i + 1));
    EXPECT_EQ(got[i].header("X-I"), std::to_string(i));
    EXPECT_EQ(got[i].header("Nats-Msg-Id"), "seq-" + std::to_string(i + 1));
  }

  // A wrong expected last sequence: refused, reported with code 10071.
  ASSERT_TRUE(link_->js_publish("test.SEQ", "stale", {}, 7, "seq-stale"));
  settle();
  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].code, 10071);
    EXPECT_EQ(failures[0].subject, "test.SEQ");
    EXPECT_EQ(failures[0].msg_id, "seq-stale");
    EXPECT_FALSE(failures[0].error.empty());
  }
  EXPECT_EQ(link_->stream_state("SEQ")->last_seq, 20u);

  // A duplicate message id is acknowledged but not stored again.
  ASSERT_TRUE(link_->js_publish("test.SEQ", "m21", {}, 20, "seq-21"));
  settle();
  ASSERT_TRUE(link_->js_publish("test.SEQ", "m21 again", {}, 20, "seq-21"));
  settle();
  state = link_->stream_state("SEQ");
  EXPECT_EQ(state->last_seq, 21u);
  EXPECT_EQ(state->messages, 21u);
  std::lock_guard lock(mutex);
  EXPECT_EQ(failures.size(), 1u);
}

TEST_F(BusLink, PurgeToMovesTheNextSequenceOfAnEmptyStream) {
  auto created = link_->ensure_stream(stream_config("PURGE"));
  EXPECT_EQ(created.last_seq, 0u);
  Inbox core, consumed;
  auto sub = link_->subscribe("test.PURGE", core.handler());
  auto consumer = link_->ordered("PURGE", "test.PURGE", 1, consumed.handler());
  link_->purge_to("PURGE", 5001);
  auto purged = link_->stream_state("PURGE");
  EXPECT_EQ(purged->first_seq, 5001u);
  EXPECT_EQ(purged->last_seq, 5000u);
  EXPECT_EQ(purged->messages, 0u);

  std::mutex mutex;
  std::vector<bus::PublishFailure> failed;
  link_->on_publish_failure([&](const bus::PublishFailure& f) {
    std::lock_guard lock(mutex);
    failed.push_back(f);
  });
  auto failures = [&] {
    std::lock_guard lock(mutex);
    return failed.size();
  };
  ASSERT_TRUE(link_->js_publish("test.PURGE", "first", {}, 5000, "p-5001"));
  settle();
  EXPECT_EQ(failures(), 0u);
  auto state = link_->stream_state("PURGE");
  EXPECT_EQ(state->first_seq, 5001u);
  EXPECT_EQ(state->last_seq, 5001u);
  EXPECT_EQ(state->messages, 1u);

  // Expectations from before the purge fail, even one equal to the number
  // of messages stored since (which nats-server 2.9 counts as its last).
  for (std::uint64_t stale : {0, 1, 5000}) {
    ASSERT_TRUE(
        link_->js_publish("test.PURGE", "stale", {}, stale, "p-stale-" + std::to_string(stale)));
  }
  settle();
  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(failed.size(), 3u);
    for (const auto& f : failed) EXPECT_EQ(f.code, 10071) << f.msg_id;
    failed.clear();
  }

  // Also on a stream holding messages: everything before is removed.
  ASSERT_TRUE(link_->js_publish("test.PURGE", "second", {}, 5001, "p-5002"));
  settle();
  link_->purge_to("PURGE", 9001);
  ASSERT_TRUE(link_->js_publish("test.PURGE", "third", {}, 9000, "p-9001"));
  settle();
  state = link_->stream_state("PURGE");
  EXPECT_EQ(state->first_seq, 9001u);
  EXPECT_EQ(state->last_seq, 9001u);
  EXPECT_EQ(failures(), 0u);
  EXPECT_THROW(link_->purge_to("PURGE", 0), bus::Error);
  EXPECT_THROW(link_->purge_to("NO_SUCH_STREAM", 10), bus::Error);

  // Subscribers of the stream's subject saw the publishes (the refused
  // ones too: core NATS) and nothing else; the consumer the stored ones.
  ASSERT_TRUE(core.wait_for(6));
  ASSERT_TRUE(consumed.wait_for(1));
  std::this_thread::sleep_for(100ms);
  auto seen = core.messages();
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen[0].data, "first");
  EXPECT_EQ(seen[5].data, "third");
  for (const auto& m : consumed.messages()) {
    EXPECT_TRUE(m.stream_seq == 5001 || m.stream_seq == 5002 || m.stream_seq == 9001)
        << m.stream_seq;
    EXPECT_NE(m.data, "stale");
  }
  EXPECT_EQ(consumed.messages().back().stream_seq, 9001u);
}

TEST_F(BusLink, DestroyedSubscriptionNoLongerCallsItsHandler) {
  std::atomic<int> calls{0};
  auto sub = link_->subscribe("test.stop", [&](bus::Message&&) {
    std::this_thread::sleep_for(1ms);
    ++calls;
  });
  for (int i = 0; i < 200; ++i) link_->publish("test.stop", "x");
  ASSERT_TRUE(eventually([&] { return calls.load() > 0; }));
  sub.reset(); // while messages are still queued
  int after = calls.load();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(calls.load(), after);

  // A handler may destroy its own subscription.
  std::mutex self_mutex;
  std::unique_ptr<bus::Subscription> self;
  std::atomic<int> self_calls{0};
  {
    std::lock_guard lock(self_mutex);
    self = link_->subscribe("test.self", [&](bus::Message&&) {
      std::lock_guard lock(self_mutex);
      ++self_calls;
      self.reset();
    });
  }
  for (int i = 0; i < 5; ++i) link_->publish("test.self", "x");
  ASSERT_TRUE(eventually([&] { return self_calls.load() == 1; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(self_calls.load(), 1);
  std::lock_guard lock(self_mutex);
  EXPECT_EQ(self, nullptr);
}

TEST_F(BusLink, CloseWithSubscriptionsAliveIsClean) {
  link_->ensure_stream(stream_config("CLOSE"));
  Inbox core, js;
  auto sub = link_->subscribe("test.CLOSE", core.handler());
  auto consumer = link_->ordered("CLOSE", "test.CLOSE", 1, js.handler());
  for (std::uint64_t i = 0; i < 50; ++i) link_->js_publish("test.CLOSE", "x", {}, i, "");
  link_->close();
  EXPECT_FALSE(link_->js_publish("test.CLOSE", "x", {}, 50, ""));
  EXPECT_THROW(link_->publish("test.CLOSE", "x"), bus::Error);
  link_.reset(); // the link goes before its subscriptions
  sub.reset();
  consumer.reset();
}

TEST(BusLinkServer, OrderedConsumerFromASequenceSurvivesARestart) {
  if (!bus_test::nats_server_available()) GTEST_SKIP() << bus_test::nats_server_missing;
  NatsServer server;
  server.start();
  StateLog states;
  auto link = bus::Link::connect(bus_test::test_options(server.url()), states.callback());
  ASSERT_TRUE(link->connected());
  link->ensure_stream(stream_config("ORDERED"));
  std::uint64_t last = 0;
  auto publish = [&](int n) {
    for (int i = 0; i < n; ++i, ++last) {
      ASSERT_TRUE(link->js_publish("test.ORDERED", "m" + std::to_string(last + 1), {}, last,
                                   "o-" + std::to_string(last + 1)));
    }
    ASSERT_TRUE(eventually([&] { return link->pending_publishes() == 0; }));
  };
  publish(10);

  Inbox inbox;
  auto consumer = link->ordered("ORDERED", "test.ORDERED", 4, inbox.handler());
  ASSERT_TRUE(inbox.wait_for(7));
  publish(2);
  ASSERT_TRUE(inbox.wait_for(9));

  server.stop();
  ASSERT_TRUE(eventually([&] { return states.count(bus::LinkState::disconnected) == 1; }));
  server.start();
  ASSERT_TRUE(eventually([&] { return states.count(bus::LinkState::connected) == 2; }));
  publish(3);
  ASSERT_TRUE(inbox.wait_for(12, 10000ms)) << inbox.size();
  std::this_thread::sleep_for(300ms);
  auto got = inbox.messages();
  ASSERT_EQ(got.size(), 12u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].stream_seq, i + 4) << "in order, no gap, no duplicate";
    EXPECT_EQ(got[i].data, "m" + std::to_string(i + 4));
  }
}

// stream::Hub as an edge (HubConfig::remote, hub_remote.cpp), against a
// RemoteUpstream the test drives by hand: the publisher's answer, its
// ticks with their sequence numbers, notices that arrive before the tick
// they follow, gaps, a resume point not received yet, the publisher's end
// of a stream, and its heartbeat lost. (The real NATS source is covered by
// tests/integration/test_scaleout.py.)
#include "hub_reader.hpp"
#include "io_loop.hpp"
#include "stream/hub.hpp"
#include "stream/wire_formats.hpp"

#include <gtest/gtest.h>

#include <future>
#include <mutex>

namespace {

using namespace std::chrono_literals;
using test_support::HubReader;
using test_support::Loop;

constexpr int kAapl = 265598;

class FakeRemote : public stream::RemoteUpstream {
public:
  struct Feed : stream::RemoteFeed {
    FakeRemote& owner;
    explicit Feed(FakeRemote& o) : owner(o) {}
    ~Feed() override {
      std::lock_guard lock(owner.m);
      owner.on_event = nullptr;
      ++owner.feeds_ended;
    }
  };

  void start(std::function<void(bool)> on_link) override { on_link(true); }
  bool up() const override { return true; }
  stream::RemoteStatus status() const override {
    std::lock_guard lock(m);
    stream::RemoteStatus s;
    s.bus_connected = true;
    s.publisher_seen = publisher_seen;
    s.tws_connected = true;
    s.publisher = "pub-a";
    return s;
  }
  void
  open(int con_id, tws::TickType,
       std::function<void(std::optional<stream::RemoteOpened>, std::optional<stream::OpenError>)>
           done) override {
    std::lock_guard lock(m);
    ++opens;
    if (refuse) {
      done(std::nullopt, *refuse);
      return;
    }
    stream::RemoteOpened o;
    o.details.contract.con_id = con_id;
    o.details.contract.symbol = "AAPL";
    o.last_seq = last_seq;
    done(o, std::nullopt);
  }
  std::unique_ptr<stream::RemoteFeed> feed(int, tws::TickType, std::uint64_t from,
                                           std::function<void(stream::RemoteEvent)> cb) override {
    std::lock_guard lock(m);
    from_seq = from;
    on_event = std::move(cb);
    return std::make_unique<Feed>(*this);
  }
  void contract_details(tws::Contract,
                        std::function<void(std::error_code, std::optional<tws::ErrorMessage>,
                                           std::vector<tws::ContractDetails>)>) override {}
  void matching_symbols(std::string,
                        std::function<void(std::error_code, std::optional<tws::ErrorMessage>,
                                           std::vector<tws::ContractDescription>)>) override {}
  void forward(const std::string&, const std::string&, const std::string&,
               std::function<void(stream::ForwardChunk)> done) override {
    done({false, {}, false, "not in this test"});
  }
  void keep(std::vector<std::pair<int, tws::TickType>> streams) override {
    std::lock_guard lock(m);
    kept = std::move(streams);
  }
  void release(int, tws::TickType) override {
    std::lock_guard lock(m);
    ++releases;
  }
  void stop() override {}

  /// The publisher sends tick `seq`.
  void tick(std::uint64_t seq) {
    std::string suffix;
    const std::string data = R"({"type":"midpoint","midpoint":)" + std::to_string(seq) + "}";
    stream::append_ws_tick_suffix(
        suffix, {seq, kAapl, tws::TickType::mid_point, "2026-12-05T06:00:00.000Z", data});
    stream::RemoteEvent ev;
    ev.kind = stream::RemoteEvent::Kind::tick;
    ev.seq = seq;
    ev.payload = suffix;
    send(std::move(ev));
  }
  void notice(std::uint64_t after_seq, std::string code, bool error = false) {
    stream::RemoteEvent ev;
    ev.kind = stream::RemoteEvent::Kind::notice;
    ev.seq = after_seq;
    ev.code = std::move(code);
    ev.error = error;
    ev.message = "from the publisher";
    send(std::move(ev));
  }
  void send(stream::RemoteEvent ev) {
    std::function<void(stream::RemoteEvent)> cb;
    {
      std::lock_guard lock(m);
      cb = on_event;
    }
    ASSERT_TRUE(cb) << "no feed";
    cb(std::move(ev));
  }
  bool has_feed() {
    std::lock_guard lock(m);
    return static_cast<bool>(on_event);
  }

  mutable std::mutex m;
  std::uint64_t last_seq = 0;
  std::optional<stream::OpenError> refuse;
  bool publisher_seen = true;
  int opens = 0, releases = 0, feeds_ended = 0;
  std::uint64_t from_seq = 0;
  std::vector<std::pair<int, tws::TickType>> kept;
  std::function<void(stream::RemoteEvent)> on_event;
};

class HubRemote : public ::testing::Test {
protected:
  void SetUp() override {
    remote_ = std::make_shared<FakeRemote>();
    stream::HubConfig c;
    c.remote = remote_;
    c.linger = 200ms;
    c.watchdog_min_silence = 400ms; // the watchdog ticks every 100 ms
    c.remote_catch_up = 500ms;
    c.log.max_entries = 100;
    hub_ = stream::Hub::create(hub_loop_.ioc.get_executor(), c);
    hub_->start();
  }
  void TearDown() override {
    std::promise<void> done;
    hub_->shutdown([&] { done.set_value(); });
    done.get_future().wait();
    for (auto& r : readers_) r->detach();
  }

  /// Opens a stream; `done` gets the result (the Hub may answer later).
  std::future<stream::OpenResult> open_async(std::shared_ptr<HubReader> r,
                                             std::optional<std::uint64_t> last_event_id = {}) {
    stream::OpenRequest req;
    req.con_id = kAapl;
    req.tick_type = tws::TickType::mid_point;
    req.last_event_id = last_event_id;
    req.loop = &client_loop_.ioc;
    auto p = std::make_shared<std::promise<stream::OpenResult>>();
    hub_->open(req, r, [p](stream::OpenResult res) { p->set_value(std::move(res)); });
    return p->get_future();
  }
  std::shared_ptr<HubReader> reader() {
    return readers_.emplace_back(std::make_shared<HubReader>(client_loop_.ioc));
  }
  stream::OpenResult started(std::shared_ptr<HubReader> r, std::future<stream::OpenResult> f) {
    EXPECT_EQ(f.wait_for(5s), std::future_status::ready);
    auto res = f.get();
    if (!res.error) r->start(res);
    return res;
  }
  template <class Pred> static bool eventually(Pred pred, std::chrono::milliseconds t = 5s) {
    const auto until = std::chrono::steady_clock::now() + t;
    while (std::chrono::steady_clock::now() < until) {
      if (pred()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return pred();
  }
  static std::vector<std::uint64_t> seqs(HubReader& r) {
    std::vector<std::uint64_t> out;
    for (const auto& t : r.ticks_copy()) out.push_back(t.seq);
    return out;
  }

  Loop hub_loop_, client_loop_;
  std::shared_ptr<FakeRemote> remote_;
  std::shared_ptr<stream::Hub> hub_;
  std::vector<std::shared_ptr<HubReader>> readers_;
};

TEST_F(HubRemote, TicksKeepThePublishersSequenceNumbersAndFrames) {
  remote_->last_seq = 0;
  auto r = reader();
  const auto res = started(r, open_async(r));
  ASSERT_FALSE(res.error);
  EXPECT_EQ(res.contract.symbol, "AAPL");
  ASSERT_TRUE(eventually([&] { return remote_->has_feed(); }));
  EXPECT_EQ(remote_->from_seq, 1u);
  for (std::uint64_t s = 1; s <= 5; ++s) remote_->tick(s);
  ASSERT_TRUE(r->wait_ticks(5));
  EXPECT_EQ(seqs(*r), (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
  // The SSE frame is rebuilt from the publisher's suffix: the same event.
  EXPECT_EQ(r->ticks_copy()[2].sse,
            "id: 3\ndata: {\"type\":\"tick\",\"contract_id\":265598,\"timestamp\":"
            "\"2026-12-05T06:00:00.000Z\",\"data\":{\"type\":\"midpoint\",\"midpoint\":3}}\n\n");
  remote_->tick(3); // read already (a redelivery): not twice
  remote_->tick(6);
  ASSERT_TRUE(r->wait_ticks(6));
  EXPECT_EQ(seqs(*r).back(), 6u);
  EXPECT_EQ(r->tick_count(), 6u);
  // The edge tells the publisher what it reads.
  EXPECT_TRUE(eventually([&] {
    std::lock_guard lock(remote_->m);
    return remote_->kept.size() == 1 && remote_->kept[0].first == kAapl;
  }));
}

TEST_F(HubRemote, ANewStreamReadsTheRecentWindowAndStartsClientsAtTheHead) {
  remote_->last_seq = 500; // the publisher is at 500; the edge's window is 100
  auto r = reader();
  auto f = open_async(r);
  ASSERT_TRUE(eventually([&] { return remote_->has_feed(); }));
  EXPECT_EQ(remote_->from_seq, 401u);
  EXPECT_NE(f.wait_for(100ms), std::future_status::ready) << "answered once caught up";
  for (std::uint64_t s = 401; s <= 500; ++s) remote_->tick(s);
  const auto res = started(r, std::move(f));
  ASSERT_FALSE(res.error);
  remote_->tick(501);
  ASSERT_TRUE(r->wait_ticks(1));
  EXPECT_EQ(seqs(*r), std::vector<std::uint64_t>{501}) << "live from the head, as a single node";
  // A client resuming after 450 (it came from another edge) replays from 451.
  auto back = reader();
  const auto resumed = started(back, open_async(back, 450));
  ASSERT_FALSE(resumed.error);
  ASSERT_TRUE(back->wait_ticks(51));
  EXPECT_EQ(seqs(*back).front(), 451u);
  EXPECT_EQ(seqs(*back).back(), 501u);
}

TEST_F(HubRemote, AResumePointNotReceivedYetIsWaitedFor) {
  auto first = reader();
  ASSERT_FALSE(started(first, open_async(first)).error);
  ASSERT_TRUE(eventually([&] { return remote_->has_feed(); }));
  for (std::uint64_t s = 1; s <= 10; ++s) remote_->tick(s);
  ASSERT_TRUE(first->wait_ticks(10));
  // Another edge was ahead: its client saw 12 already.
  auto moved = reader();
  auto f = open_async(moved, 12);
  EXPECT_NE(f.wait_for(150ms), std::future_status::ready);
  remote_->tick(11);
  remote_->tick(12);
  remote_->tick(13);
  const auto res = started(moved, std::move(f));
  ASSERT_FALSE(res.error);
  EXPECT_FALSE(res.resume_unknown);
  ASSERT_TRUE(moved->wait_ticks(1));
  EXPECT_EQ(seqs(*moved), std::vector<std::uint64_t>{13}) << "no duplicate of 11 and 12";
}

TEST_F(HubRemote, NoticesKeepTheirPlaceAndGapsAreAnnounced) {
  auto r = reader();
  ASSERT_FALSE(started(r, open_async(r)).error);
  ASSERT_TRUE(eventually([&] { return remote_->has_feed(); }));
  remote_->tick(1);
  remote_->notice(2, "stale"); // it follows tick 2, which has not come yet
  ASSERT_TRUE(r->wait_ticks(1));
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(r->notices.empty()) << "held until tick 2";
  remote_->tick(2);
  ASSERT_TRUE(r->wait_notice("stale"));
  // Ticks 3..5 never came: the clients are told, and numbering goes on.
  remote_->tick(6);
  ASSERT_TRUE(r->wait_notice("ticks_lost"));
  ASSERT_TRUE(r->wait_ticks(3));
  EXPECT_EQ(seqs(*r), (std::vector<std::uint64_t>{1, 2, 6}));
  // A notice whose tick never comes is delivered after remote_catch_up.
  remote_->notice(9, "resumed");
  ASSERT_TRUE(r->wait_notice("resumed", 3s));
}

TEST_F(HubRemote, ThePublishersRefusalIsTheClientsAnswer) {
  remote_->refuse = stream::OpenError{429, "RATE_LIMIT_EXCEEDED", "too many", "later", 5};
  auto r = reader();
  const auto res = started(r, open_async(r));
  ASSERT_TRUE(res.error);
  EXPECT_EQ(res.error->status, 429);
  EXPECT_EQ(res.error->code, "RATE_LIMIT_EXCEEDED");
  EXPECT_EQ(res.error->retry_after_s, 5);
}

TEST_F(HubRemote, ThePublisherEndingAStreamEndsItsClients) {
  auto r = reader();
  ASSERT_FALSE(started(r, open_async(r)).error);
  ASSERT_TRUE(eventually([&] { return remote_->has_feed(); }));
  stream::RemoteEvent ev;
  ev.kind = stream::RemoteEvent::Kind::ended;
  ev.code = "TWS_ERROR_10089";
  ev.error = true;
  ev.message = "no market data permissions";
  remote_->send(ev);
  ASSERT_TRUE(r->wait([&] { return r->ended.has_value(); }));
  EXPECT_EQ(*r->ended, stream::EndReason::failed);
  ASSERT_TRUE(r->end_notice);
  EXPECT_EQ(r->end_notice->code, "TWS_ERROR_10089");
  EXPECT_TRUE(eventually([&] {
    std::lock_guard lock(remote_->m);
    return remote_->releases == 1 && remote_->feeds_ended == 1;
  }));
}

TEST_F(HubRemote, ThePublishersHeartbeatLostIsTwsLostForTheClients) {
  auto r = reader();
  ASSERT_FALSE(started(r, open_async(r)).error);
  ASSERT_TRUE(eventually([&] { return remote_->has_feed(); }));
  remote_->tick(1);
  ASSERT_TRUE(r->wait_ticks(1));
  {
    std::lock_guard lock(remote_->m);
    remote_->publisher_seen = false;
  }
  ASSERT_TRUE(r->wait_notice("TWS_DISCONNECTED"));
  std::promise<stream::HubSnapshot> p;
  hub_->snapshot([&](stream::HubSnapshot s) { p.set_value(std::move(s)); });
  const auto snap = p.get_future().get();
  EXPECT_FALSE(snap.tws.connected);
  ASSERT_TRUE(snap.remote);
  ASSERT_EQ(snap.upstreams.size(), 1u);
  EXPECT_EQ(snap.upstreams[0].state, "disconnected");
}

TEST_F(HubRemote, AStreamWithoutClientsIsReleasedAfterItsLinger) {
  auto r = reader();
  const auto res = started(r, open_async(r));
  ASSERT_FALSE(res.error);
  ASSERT_TRUE(eventually([&] { return remote_->has_feed(); }));
  hub_->close(res.stream_id);
  EXPECT_TRUE(eventually([&] {
    std::lock_guard lock(remote_->m);
    return remote_->releases == 1 && remote_->feeds_ended == 1 && !remote_->on_event;
  }));
}

} // namespace

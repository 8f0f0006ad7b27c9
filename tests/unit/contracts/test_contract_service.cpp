// contracts::ContractService against the real simulator (in-process, on a
// loopback port) through a real Hub: search, details, fuzzy symbols,
// resolution of specs, shared lookups, pacing, the disk cache, and what
// happens without TWS.
#include "contracts/contract_service.hpp"
#include "io_loop.hpp"
#include "sim/simulator.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using contracts::ContractService;

using test_support::Loop;

struct SearchAnswer {
  ContractService::Error error;
  ContractService::DetailsList list;
  std::int64_t as_of = 0;
};

class ContractServiceTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ibs-contracts-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    service_.reset();
    if (hub_) {
      std::promise<void> done;
      hub_->shutdown([&] { done.set_value(); });
      done.get_future().wait();
    }
    std::filesystem::remove_all(dir_);
  }

  void start_sim() {
    sim::SimConfig c;
    c.port = 0;
    c.request_log_path = (dir_ / "requests.jsonl").string();
    c.client_id_hold_seconds = 0.3;
    sim_ = std::make_unique<sim::Simulator>(sim_loop_.ioc, c);
    sim_->start();
  }

  static std::uint16_t closed_port() {
    asio::io_context ioc;
    asio::ip::tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
  }

  void start(contracts::ServiceConfig cfg = {}, int client_id = 11) {
    stream::HubConfig h;
    h.tws.ports = {sim_ ? sim_->port() : closed_port()};
    h.tws.client_id = client_id;
    h.tws.connect_timeout = 2000ms;
    h.connect_wait = 1000ms;
    h.backoff_initial = 100ms;
    h.backoff_max = 500ms;
    hub_ = stream::Hub::create(hub_loop_.ioc.get_executor(), h);
    hub_->start();
    if (cfg.cache_file.empty()) cfg.cache_file = dir_ / "contracts.json";
    service_ = ContractService::create(hub_loop_.ioc.get_executor(), hub_, cfg);
  }

  /// The Hub is connected (lookups go to TWS, not to the not-connected path).
  void wait_connected() {
    for (int i = 0; i < 100; ++i) {
      std::promise<bool> p;
      hub_->snapshot([&](stream::HubSnapshot s) { p.set_value(s.tws.connected); });
      if (p.get_future().get()) return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "the Hub did not connect";
  }

  SearchAnswer search(tws::Contract q) {
    std::promise<SearchAnswer> p;
    service_->search(
        q, [&](ContractService::Error e, ContractService::DetailsList l, std::int64_t as_of) {
          p.set_value({e, l, as_of});
        });
    return p.get_future().get();
  }
  std::pair<ContractService::Error, int> resolve(std::string_view text) {
    std::string err;
    auto ref = contracts::parse_contract_ref(text, err);
    EXPECT_TRUE(ref) << err;
    std::promise<std::pair<ContractService::Error, int>> p;
    service_->resolve(*ref, [&](ContractService::Error e, int id) { p.set_value({e, id}); });
    return p.get_future().get();
  }
  ContractService::Stats stats() {
    std::promise<ContractService::Stats> p;
    service_->stats([&](ContractService::Stats s) { p.set_value(s); });
    return p.get_future().get();
  }

  static tws::Contract query(std::string symbol, std::string sec_type, std::string exchange = {},
                             std::string currency = {}) {
    tws::Contract c;
    c.symbol = std::move(symbol);
    c.sec_type = std::move(sec_type);
    c.exchange = std::move(exchange);
    c.currency = std::move(currency);
    return c;
  }

  std::filesystem::path dir_;
  Loop sim_loop_;
  Loop hub_loop_;
  std::unique_ptr<sim::Simulator> sim_;
  std::shared_ptr<stream::Hub> hub_;
  std::shared_ptr<ContractService> service_;
};

TEST_F(ContractServiceTest, SearchFindsOneStockAndEveryFuturesMonthInExpiryOrder) {
  start_sim();
  start();
  wait_connected();
  const auto aapl = search(query("AAPL", "STK", "SMART", "USD"));
  ASSERT_FALSE(aapl.error) << aapl.error->message;
  ASSERT_EQ(aapl.list.size(), 1u);
  EXPECT_EQ(aapl.list[0].contract.con_id, 265598);
  EXPECT_EQ(aapl.list[0].time_zone_id, "US/Eastern");
  EXPECT_FALSE(aapl.list[0].trading_hours.empty());

  const auto es = search(query("ES", "FUT", "CME"));
  ASSERT_FALSE(es.error);
  ASSERT_GE(es.list.size(), 2u) << "every listed month";
  for (std::size_t i = 1; i < es.list.size(); ++i)
    EXPECT_LT(es.list[i - 1].contract.last_trade_date_or_contract_month,
              es.list[i].contract.last_trade_date_or_contract_month);

  const auto none = search(query("NOSUCH", "STK", "SMART", "USD"));
  EXPECT_FALSE(none.error) << "no match is an empty answer, not an error";
  EXPECT_TRUE(none.list.empty());
}

TEST_F(ContractServiceTest, IdenticalConcurrentLookupsShareOneRequestThenTheCacheAnswers) {
  start_sim();
  start();
  wait_connected();
  std::vector<std::future<SearchAnswer>> answers;
  std::vector<std::shared_ptr<std::promise<SearchAnswer>>> promises;
  for (int i = 0; i < 5; ++i) {
    auto p = std::make_shared<std::promise<SearchAnswer>>();
    answers.push_back(p->get_future());
    service_->search(
        query("MSFT", "STK", "SMART", "USD"),
        [p](ContractService::Error e, ContractService::DetailsList l, std::int64_t as_of) {
          p->set_value({e, l, as_of});
        });
  }
  for (auto& a : answers) {
    const auto r = a.get();
    ASSERT_FALSE(r.error);
    ASSERT_EQ(r.list.size(), 1u);
  }
  auto s = stats();
  EXPECT_EQ(s.tws_requests, 1u);
  // Those posted before TWS answered joined the request in flight (on a
  // loaded machine a late one may find the answer cached already).
  EXPECT_EQ(s.shared + s.cache_hits, 4u);
  const auto hits = s.cache_hits;
  EXPECT_EQ(search(query("msft", "stk", "smart", "usd")).list.size(), 1u);
  s = stats();
  EXPECT_EQ(s.tws_requests, 1u) << "the same search (any case) is answered from the cache";
  EXPECT_EQ(s.cache_hits, hits + 1);
}

TEST_F(ContractServiceTest, SpecsResolveToOneIdOrSayWhyNot) {
  start_sim();
  start();
  wait_connected();
  auto [e1, id] = resolve("AAPL");
  ASSERT_FALSE(e1);
  EXPECT_EQ(id, 265598);
  auto [e2, id2] = resolve("ES:FUT:CME:USD");
  ASSERT_TRUE(e2);
  EXPECT_EQ(e2->status, 400);
  EXPECT_EQ(e2->code, "AMBIGUOUS_CONTRACT");
  EXPECT_GE(e2->candidates.size(), 2u);
  EXPECT_NE(e2->details.find("Candidates:"), std::string::npos) << e2->details;
  // The first candidate's month names exactly one contract.
  const auto month = e2->candidates[0].contract.last_trade_date_or_contract_month.substr(0, 6);
  auto [e3, id3] = resolve("ES:FUT:CME:USD:" + month);
  ASSERT_FALSE(e3) << e3->message;
  EXPECT_EQ(id3, e2->candidates[0].contract.con_id);
  auto [e4, id4] = resolve("NOSUCH");
  ASSERT_TRUE(e4);
  EXPECT_EQ(e4->status, 404);
  EXPECT_EQ(e4->code, "CONTRACT_NOT_FOUND");
  // An id is taken as is (the stream checks it).
  auto [e5, id5] = resolve("12345");
  EXPECT_FALSE(e5);
  EXPECT_EQ(id5, 12345);
}

TEST_F(ContractServiceTest, AStreamOfAResolvedSpecAsksTwsForNoMoreDetails) {
  start_sim();
  start();
  wait_connected();
  auto [e, id] = resolve("AAPL");
  ASSERT_FALSE(e);
  // The Hub's own use of the contract (a stream, a backfill) finds its
  // details: TWS is asked once, for the search.
  std::promise<void> done;
  tws::HistoricalTicksRequest req;
  req.end = "20231114-22:00:00";
  req.count = 10;
  req.what_to_show = "MIDPOINT";
  hub_->historical_ticks(
      id, req, [&](std::error_code, const tws::ErrorMessage*, auto&&...) { done.set_value(); });
  done.get_future().wait();
  std::ifstream log(dir_ / "requests.jsonl");
  std::string line;
  int details = 0, historical = 0;
  while (std::getline(log, line)) {
    details += line.find("\"reqContractDetails\"") != std::string::npos;
    historical += line.find("\"reqHistoricalTicks\"") != std::string::npos;
  }
  EXPECT_EQ(historical, 1) << "the request went to TWS";
  EXPECT_EQ(details, 1) << "one reqContractDetails: the search's";
}

TEST_F(ContractServiceTest, DetailsOfAnUnknownIdIs404) {
  start_sim();
  start();
  wait_connected();
  std::promise<ContractService::Error> p;
  service_->details(
      999, [&](ContractService::Error e, tws::ContractDetails, std::int64_t) { p.set_value(e); });
  const auto e = p.get_future().get();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 404);
  EXPECT_EQ(e->code, "CONTRACT_NOT_FOUND");
}

TEST_F(ContractServiceTest, SymbolSearchIsPacedAndTooManyWaitingAre429) {
  start_sim();
  contracts::ServiceConfig cfg;
  cfg.max_symbol_waiting = 1;
  start(cfg);
  wait_connected();
  std::vector<std::future<ContractService::Error>> answers;
  for (const char* q : {"app", "micro", "tes"}) {
    auto p = std::make_shared<std::promise<ContractService::Error>>();
    answers.push_back(p->get_future());
    service_->matching_symbols(q,
                               [p](ContractService::Error e, std::vector<tws::ContractDescription>,
                                   std::int64_t) { p->set_value(e); });
  }
  // The first goes at once, the second waits its second; the third finds
  // the queue full.
  EXPECT_FALSE(answers[0].get());
  EXPECT_FALSE(answers[1].get());
  const auto third = answers[2].get();
  ASSERT_TRUE(third);
  EXPECT_EQ(third->status, 429);
  EXPECT_GE(third->retry_after_s, 1);
  std::promise<std::vector<tws::ContractDescription>> p;
  service_->matching_symbols(
      "APP", [&](ContractService::Error e, std::vector<tws::ContractDescription> l, std::int64_t) {
        EXPECT_FALSE(e);
        p.set_value(l);
      });
  const auto list = p.get_future().get();
  ASSERT_FALSE(list.empty());
  EXPECT_EQ(list[0].symbol, "AAPL");
}

TEST_F(ContractServiceTest, ARestartAnswersFromTheDiskCacheWithoutTws) {
  start_sim();
  start();
  wait_connected();
  ASSERT_EQ(search(query("AAPL", "STK", "SMART", "USD")).list.size(), 1u);
  // Written in the background, once.
  const auto file = dir_ / "contracts.json";
  for (int i = 0; i < 100 && !std::filesystem::exists(file); ++i) std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(std::filesystem::exists(file));
  service_.reset();
  {
    std::promise<void> done;
    hub_->shutdown([&] { done.set_value(); });
    done.get_future().wait();
    hub_.reset();
  }
  sim_.reset(); // no TWS from here on
  // Two days later: the entry is old, TWS cannot refresh it, the old answer serves.
  contracts::ServiceConfig cfg;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  cfg.now = [now] { return now + 2 * 86400; };
  start(cfg, 12);
  const auto again = search(query("aapl", "stk", "smart", "usd"));
  ASSERT_FALSE(again.error) << again.error->message;
  ASSERT_EQ(again.list.size(), 1u);
  EXPECT_EQ(again.list[0].contract.con_id, 265598);
  EXPECT_LE(again.as_of, now) << "as_of says when IB answered";
  EXPECT_EQ(again.list[0].time_zone_id, "US/Eastern");
  auto [e, id] = resolve("AAPL");
  EXPECT_FALSE(e);
  EXPECT_EQ(id, 265598);
  // What was never asked cannot be answered without TWS: 503 with Retry-After.
  const auto other = search(query("NVDA", "STK", "SMART", "USD"));
  ASSERT_TRUE(other.error);
  EXPECT_EQ(other.error->status, 503);
  EXPECT_EQ(other.error->code, "TWS_UNAVAILABLE");
  EXPECT_GT(other.error->retry_after_s, 0);
}

TEST_F(ContractServiceTest, ADamagedCacheFileIsSetAsideNotFatal) {
  {
    std::ofstream out(dir_ / "contracts.json");
    out << "{\"version\":1,\"contracts\":{\"1\":{\"details\":";
  }
  start();
  EXPECT_TRUE(std::filesystem::exists(dir_ / "contracts.json.bad"));
  const auto r = search(query("AAPL", "STK", "SMART", "USD"));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->status, 503);
}

} // namespace

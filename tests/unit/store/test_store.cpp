// store::Store: every tick type and field through a day file and back,
// (seq, sub) order with backfilled rows, duplicates, ranges across day
// files, paging with `after`, limits, first_at_or_after, last_recorded,
// has_seq, summary, gaps, retention and the columns a user reads with sqlite3.
#include "store/store.hpp"
#include "store_test_util.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <tuple>

namespace {

using namespace store_test;
using store::Position;
using store::Query;
using store::Store;
using store::TickRecord;
using tws::TickType;

std::vector<std::uint64_t> seqs(const std::vector<TickRecord>& rows) {
  std::vector<std::uint64_t> out;
  for (const auto& r : rows) out.push_back(r.seq * 10 + r.sub);
  return out;
}

TEST(Store, RoundTripsEveryTickTypeAndField) {
  TempDir dir;
  Store st({dir.path(), 0});
  const std::int64_t t = day0() + 3600;
  std::vector<TickRecord> trades = {last(7, 1, t, 101.25, 300.0, "NYSE"),
                                    last(7, 2, t, 101.5, std::nullopt, ""),
                                    last(7, 3, t + 1, 99.0, 0.5, "Börse 東京")};
  auto& special = std::get<tws::TickByTickLast>(trades[2].tick);
  special.special_conditions = "@ T I";
  special.past_limit = true;
  special.unreported = true;
  std::vector<TickRecord> all = {last(7, 1, t, 5.0, 1.0, "ARCA", TickType::all_last)};
  std::vector<TickRecord> quotes = {bid_ask(7, 1, t, 100.0, 100.5, 3.0, std::nullopt),
                                    bid_ask(7, 2, t + 2, 100.25, 100.75, std::nullopt, 9e9)};
  auto& q = std::get<tws::TickByTickBidAsk>(quotes[1].tick);
  q.bid_past_low = true;
  q.ask_past_high = true;
  std::vector<TickRecord> mids = {mid(7, 1, t, 100.25), mid(7, 2, t + 5, -0.0001)};
  mids[1] = backfilled(mids[1], 1, 1);

  for (auto* batch : {&trades, &all, &quotes, &mids}) ASSERT_FALSE(st.write(*batch));
  EXPECT_EQ(read_all(st, 7, TickType::last), trades);
  EXPECT_EQ(read_all(st, 7, TickType::all_last), all);
  EXPECT_EQ(read_all(st, 7, TickType::bid_ask), quotes);
  EXPECT_EQ(read_all(st, 7, TickType::mid_point), mids);
  EXPECT_TRUE(read_all(st, 8, TickType::last).empty());

  // What a user sees with sqlite3: NULL for no size and unused columns,
  // booleans 0/1, text tick types and sources.
  const auto file = dir.path() / "ticks-2026-12-04.sqlite";
  ASSERT_EQ(st.day_files(), std::vector{file});
  EXPECT_EQ(query(file, "SELECT tick_type, seq, size, exchange, conditions, past_limit, bid_price "
                        "FROM ticks WHERE tick_type = 'Last' ORDER BY seq"),
            (std::vector<std::string>{"Last|1|300.0|NYSE||0|NULL", "Last|2|NULL|||0|NULL",
                                      "Last|3|0.5|Börse 東京|@ T I|1|NULL"}));
  EXPECT_EQ(query(file, "SELECT bid_size, ask_size, bid_past_low, ask_past_high, price FROM ticks "
                        "WHERE tick_type = 'BidAsk' ORDER BY seq"),
            (std::vector<std::string>{"3.0|NULL|0|0|NULL", "NULL|9000000000.0|1|1|NULL"}));
  EXPECT_EQ(query(file, "SELECT seq, sub, source, midpoint FROM ticks WHERE tick_type = "
                        "'MidPoint' ORDER BY seq, sub"),
            (std::vector<std::string>{"1|0|live|100.25", "1|1|backfill|-0.0001"}));
  EXPECT_EQ(query(file, "SELECT key, value FROM meta WHERE key != 'created_by' ORDER BY key"),
            (std::vector<std::string>{"day|2026-12-04", "schema_version|1"}));
  EXPECT_EQ(query(file, "PRAGMA journal_mode"), std::vector<std::string>{"wal"});
}

TEST(Store, RejectsRecordsThatDoNotDescribeOneTick) {
  TempDir dir;
  Store st({dir.path(), 0});
  auto wrong_kind = mid(1, 1, day0(), 1.0);
  wrong_kind.tick_type = TickType::bid_ask;
  auto wrong_time = last(1, 2, day0(), 1.0);
  wrong_time.ib_time += 1;
  auto wrong_last = last(1, 3, day0(), 1.0, 1.0, "X", TickType::all_last);
  wrong_last.tick_type = TickType::last;
  for (const auto& bad : {wrong_kind, wrong_time, wrong_last}) {
    std::vector rows = {last(1, 9, day0(), 2.0), bad};
    auto err = st.write(rows);
    ASSERT_TRUE(err);
    EXPECT_NE(err->message.find("row 1"), std::string::npos) << err->message;
    EXPECT_FALSE(err->disk_full);
  }
  EXPECT_TRUE(read_all(st, 1, TickType::last).empty()); // nothing of a bad batch
}

TEST(Store, OrdersBackfilledRowsBySeqThenSubAndIgnoresDuplicates) {
  TempDir dir;
  Store st({dir.path(), 0});
  const std::int64_t t = day0() + 100;
  std::vector live = {last(1, 1, t, 1), last(1, 2, t + 1, 2), last(1, 3, t + 9, 3),
                      last(1, 4, t + 9, 4)};
  ASSERT_FALSE(st.write(live));
  // The gap after seq 2, filled later.
  std::vector fill = {backfilled(last(1, 0, t + 3, 2.1), 2, 1),
                      backfilled(last(1, 0, t + 5, 2.2), 2, 2),
                      backfilled(last(1, 0, t + 8, 2.3), 2, 3)};
  ASSERT_FALSE(st.write(fill));
  EXPECT_EQ(seqs(read_all(st, 1, TickType::last)),
            (std::vector<std::uint64_t>{10, 20, 21, 22, 23, 30, 40}));

  // The same rows again (a retried batch): ignored, counts unchanged.
  auto again = live;
  std::get<tws::TickByTickLast>(again[0].tick).price = 555; // the stored row wins
  ASSERT_FALSE(st.write(again));
  ASSERT_FALSE(st.write(fill));
  const auto rows = read_all(st, 1, TickType::last);
  EXPECT_EQ(rows.size(), 7u);
  EXPECT_EQ(std::get<tws::TickByTickLast>(rows[0].tick).price, 1.0);
  const auto sum = st.summary(1);
  ASSERT_EQ(sum.size(), 1u);
  EXPECT_EQ(sum[0].live, 4u);
  EXPECT_EQ(sum[0].backfill, 3u);
}

TEST(Store, ReadsRangesAcrossDayFilesWithMillisecondBounds) {
  TempDir dir;
  Store st({dir.path(), 0});
  const std::int64_t midnight = day0() + 86400; // 2026-12-05
  std::vector<TickRecord> rows;
  for (int i = 0; i < 6; ++i) rows.push_back(bid_ask(3, 100 + i, midnight - 3 + i, 1, 2));
  ASSERT_FALSE(st.write(rows)); // one transaction in each of two files
  EXPECT_EQ(st.day_files(), (std::vector{dir.path() / "ticks-2026-12-04.sqlite",
                                         dir.path() / "ticks-2026-12-05.sqlite"}));
  auto range = [&](std::optional<std::int64_t> start_ms, std::optional<std::int64_t> end_ms) {
    Query q;
    q.start_ms = start_ms;
    q.end_ms = end_ms;
    std::vector<std::int64_t> times;
    for (const auto& r : read_all(st, 3, TickType::bid_ask, q))
      times.push_back(r.ib_time - midnight);
    return times;
  };
  using V = std::vector<std::int64_t>;
  EXPECT_EQ(range(std::nullopt, std::nullopt), (V{-3, -2, -1, 0, 1, 2}));
  EXPECT_EQ(range((midnight - 2) * 1000, (midnight + 2) * 1000), (V{-2, -1, 0, 1}));
  EXPECT_EQ(range((midnight - 2) * 1000 + 1, (midnight + 1) * 1000 + 1), (V{-1, 0, 1}));
  EXPECT_EQ(range(midnight * 1000, std::nullopt), (V{0, 1, 2}));
  EXPECT_EQ(range(std::nullopt, midnight * 1000), (V{-3, -2, -1}));
  EXPECT_EQ(range(midnight * 1000, midnight * 1000), V{});
  EXPECT_EQ(range((midnight + 10) * 1000, std::nullopt), V{});

  // Time and position together: after (102), from midnight - 3.
  Query q;
  q.start_ms = (midnight - 3) * 1000;
  q.after = Position{102, 0};
  EXPECT_EQ(seqs(read_all(st, 3, TickType::bid_ask, q)),
            (std::vector<std::uint64_t>{1030, 1040, 1050}));
}

TEST(Store, PagesWithAfterAndStopsAtLimitOrWhenTold) {
  TempDir dir;
  Store st({dir.path(), 0});
  std::vector<TickRecord> rows;
  for (int i = 1; i <= 5000; ++i) rows.push_back(mid(2, i, day0() + i / 10, i * 0.5));
  ASSERT_FALSE(st.write(rows));

  std::vector<std::uint64_t> got;
  std::optional<Position> after;
  for (;;) {
    Query q;
    q.con_id = 2;
    q.tick_type = TickType::mid_point;
    q.after = after;
    q.limit = 1500; // pages of the caller across the store's own pages
    const std::size_t n = st.read(q, [&](const TickRecord& r) {
      got.push_back(r.seq);
      after = Position{r.seq, r.sub};
      return true;
    });
    if (n == 0) break;
    EXPECT_LE(n, 1500u);
  }
  ASSERT_EQ(got.size(), 5000u);
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], i + 1);

  Query q;

  q.con_id = 2;

  q.tick_type = TickType::mid_point;
  q.limit = 3;
  EXPECT_EQ(seqs(read_all(st, 2, TickType::mid_point, q)),
            (std::vector<std::uint64_t>{10, 20, 30}));
  q.limit = 0;
  EXPECT_EQ(st.read(q, [](const TickRecord&) { return true; }), 0u);
  q.limit = 100;
  int calls = 0;
  EXPECT_EQ(st.read(q, [&](const TickRecord&) { return ++calls < 4; }), 4u);
}

TEST(Store, AKeysOnlyReadGivesTheSamePositions) {
  TempDir dir;
  Store st({dir.path(), 0});
  std::vector<TickRecord> rows;
  for (int i = 1; i <= 3000; ++i) rows.push_back(mid(2, i, day0() + i / 10, i * 0.5));
  ASSERT_FALSE(st.write(rows));
  Query q;
  q.con_id = 2;
  q.tick_type = TickType::mid_point;
  q.start_ms = (day0() + 20) * 1000;
  q.end_ms = (day0() + 250) * 1000;
  q.limit = 100000;
  std::vector<std::tuple<std::uint64_t, std::uint32_t, std::int64_t>> full, keys;
  st.read(q, [&](const TickRecord& r) {
    full.emplace_back(r.seq, r.sub, r.ib_time);
    return true;
  });
  q.keys_only = true;
  st.read(q, [&](const TickRecord& r) {
    keys.emplace_back(r.seq, r.sub, r.ib_time);
    return true;
  });
  ASSERT_FALSE(full.empty());
  EXPECT_EQ(keys, full);
}

TEST(Store, FindsFirstPositionAtOrAfterATime) {
  TempDir dir;
  Store st({dir.path(), 0});
  const std::int64_t t = day0() + 86400 - 1;
  std::vector rows = {last(4, 1, t - 5, 1), last(4, 2, t, 2), last(4, 3, t, 3),
                      backfilled(last(4, 0, t + 1, 4), 3, 1), last(4, 4, t + 3, 5)};
  ASSERT_FALSE(st.write(rows));
  auto at = [&](std::int64_t ms) { return st.first_at_or_after(4, TickType::last, ms); };
  EXPECT_EQ(at(0), (Position{1, 0}));
  EXPECT_EQ(at((t - 4) * 1000), (Position{2, 0}));
  EXPECT_EQ(at(t * 1000), (Position{2, 0}));
  EXPECT_EQ(at(t * 1000 + 1), (Position{3, 1})); // next day's file
  EXPECT_EQ(at((t + 2) * 1000), (Position{4, 0}));
  EXPECT_EQ(at((t + 3) * 1000 + 1), std::nullopt);
  EXPECT_EQ(st.first_at_or_after(4, TickType::all_last, 0), std::nullopt);
}

TEST(Store, LastRecordedCountsTheLiveRowsOfItsSecondAndHasSeqSeesLiveTicks) {
  TempDir dir;
  Store st({dir.path(), 0});
  EXPECT_EQ(st.last_recorded(5, TickType::last), std::nullopt);
  const std::int64_t t = day0() + 500;
  std::vector rows = {last(5, 10, t - 1, 1), last(5, 11, t, 2), last(5, 12, t, 3),
                      last(5, 13, t, 4)};
  ASSERT_FALSE(st.write(rows));
  auto lr = st.last_recorded(5, TickType::last);
  ASSERT_TRUE(lr);
  EXPECT_EQ(lr->seq, 13u);
  EXPECT_EQ(lr->sub, 0u);
  EXPECT_EQ(lr->ib_time, t);
  EXPECT_EQ(lr->live_at_time, 3u);

  std::vector fill = {backfilled(last(5, 0, t, 4.5), 13, 1), backfilled(last(5, 0, t, 5), 13, 2)};
  ASSERT_FALSE(st.write(fill));
  lr = st.last_recorded(5, TickType::last);
  ASSERT_TRUE(lr);
  EXPECT_EQ((Position{lr->seq, lr->sub}), (Position{13, 2}));
  EXPECT_EQ(lr->live_at_time, 3u); // backfilled rows are not live

  // On the next day, the last row is there.
  std::vector later = {last(5, 14, t + 86400, 6)};
  ASSERT_FALSE(st.write(later));
  EXPECT_EQ(st.last_recorded(5, TickType::last)->seq, 14u);
  EXPECT_EQ(st.last_recorded(5, TickType::last)->live_at_time, 1u);

  EXPECT_TRUE(st.has_seq(5, TickType::last, 10));
  EXPECT_TRUE(st.has_seq(5, TickType::last, 14));
  EXPECT_FALSE(st.has_seq(5, TickType::last, 9));
  EXPECT_FALSE(st.has_seq(5, TickType::all_last, 10));
  std::vector only_backfill = {backfilled(last(6, 0, t, 1), 20, 1)};
  ASSERT_FALSE(st.write(only_backfill));
  EXPECT_FALSE(st.has_seq(6, TickType::last, 20));
}

TEST(Store, SummarizesEachTickTypePerDay) {
  TempDir dir;
  Store st({dir.path(), 0});
  const std::int64_t t = day0() + 60;
  std::vector rows = {bid_ask(9, 1, t, 1, 2),
                      bid_ask(9, 2, t + 10, 1, 2),
                      bid_ask(9, 3, t + 86400, 1, 2),
                      last(9, 7, t + 5, 3),
                      backfilled(last(9, 0, t + 6, 3), 7, 1),
                      last(10, 1, t, 1)};
  ASSERT_FALSE(st.write(rows));
  const auto sum = st.summary(9);
  ASSERT_EQ(sum.size(), 2u);
  EXPECT_EQ(sum[0].tick_type, TickType::last);
  EXPECT_EQ(sum[0].first_seq, 7u);
  EXPECT_EQ(sum[0].last_seq, 7u);
  EXPECT_EQ(sum[0].first_time, t + 5);
  EXPECT_EQ(sum[0].last_time, t + 6);
  EXPECT_EQ(sum[0].live, 1u);
  EXPECT_EQ(sum[0].backfill, 1u);
  EXPECT_EQ(sum[0].per_day, (std::map<std::string, std::uint64_t>{{"2026-12-04", 2}}));
  EXPECT_EQ(sum[1].tick_type, TickType::bid_ask);
  EXPECT_EQ(sum[1].first_seq, 1u);
  EXPECT_EQ(sum[1].last_seq, 3u);
  EXPECT_EQ(sum[1].first_time, t);
  EXPECT_EQ(sum[1].last_time, t + 86400);
  EXPECT_EQ(sum[1].live, 3u);
  EXPECT_EQ(sum[1].per_day,
            (std::map<std::string, std::uint64_t>{{"2026-12-04", 2}, {"2026-12-05", 1}}));
  EXPECT_TRUE(st.summary(11).empty());
}

TEST(Store, KeepsGapsInMetaAcrossRestarts) {
  TempDir dir;
  store::Gap a{0,
               7,
               TickType::bid_ask,
               41,
               day0() + 10,
               0,
               store::Gap::State::open,
               0,
               "TWS connection lost",
               "",
               1000,
               1000};
  store::Gap b{0,
               7,
               TickType::last,
               3,
               day0() + 20,
               day0() + 30,
               store::Gap::State::filled,
               12,
               "server restart",
               "",
               2000,
               2001};
  {
    Store st({dir.path(), 0});
    ASSERT_FALSE(st.add_gap(a));
    ASSERT_FALSE(st.add_gap(b));
    EXPECT_GT(b.id, a.id);
    a.state = store::Gap::State::unfillable;
    a.to_time = day0() + 99;
    a.detail = "162: Historical Market Data Service error message: no data";
    a.updated_unix = 1500;
    ASSERT_FALSE(st.update_gap(a));
    store::Gap unknown = a;
    unknown.id = 999;
    auto err = st.update_gap(unknown);
    ASSERT_TRUE(err);
    EXPECT_NE(err->message.find("999"), std::string::npos);
  }
  Store st({dir.path(), 0});
  auto all = st.gaps(7);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, a.id);
  EXPECT_EQ(all[0].state, store::Gap::State::unfillable);
  EXPECT_EQ(all[0].detail, a.detail);
  EXPECT_EQ(all[0].to_time, day0() + 99);
  EXPECT_EQ(all[0].reason, "TWS connection lost");
  EXPECT_EQ(all[1].filled_ticks, 12u);
  EXPECT_EQ(all[1].updated_unix, 2001);
  EXPECT_EQ(st.gaps(7, TickType::last).size(), 1u);
  EXPECT_TRUE(st.gaps(8).empty());
  EXPECT_EQ(query(dir.path() / "meta.sqlite", "SELECT state FROM gaps ORDER BY id"),
            (std::vector<std::string>{"unfillable", "filled"}));
}

} // namespace

// A committed recording (tests/data/studies/, ib-studies --record of a live
// run against ib-tws-sim --seed 7 --start-time 1700000000 --rate 20, MNQ
// 711280073, 120 trades) replayed through the studies: exact summaries. The
// expected numbers were computed independently (a separate Python
// implementation of the rules over the same file).
#include "studies/delta_study.hpp"
#include "studies/multi_delta_study.hpp"
#include "studies/tick_event.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace studies;

namespace {

const std::filesystem::path kRecording = std::filesystem::path(__FILE__).parent_path() / ".." /
                                         ".." / "data" / "studies" / "mnq_711280073_seed7.jsonl";

/// Feeds the recording to `study` in file order; returns the last result.
template <class Study> TradeResult replay(Study& study) {
  std::ifstream in(kRecording);
  EXPECT_TRUE(in) << kRecording;
  std::string line, error;
  TradeResult last;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    StreamEvent ev;
    EXPECT_TRUE(parse_stream_event(line, ev, error)) << lines << ": " << error;
    EXPECT_EQ(ev.type, "tick");
    EXPECT_EQ(ev.contract_id, 711280073);
    if (const auto* t = std::get_if<Trade>(&ev.tick)) last = study.on_trade(*t);
    else if (const auto* q = std::get_if<Quote>(&ev.tick)) {
      if constexpr (std::is_same_v<Study, MultiDeltaStudy>) study.on_quote(*q);
    }
  }
  EXPECT_EQ(lines, 376);
  return last;
}

} // namespace

TEST(StudiesReplay, MultiDeltaWindow60) {
  MultiDeltaStudy s({60, 0});
  const auto r = replay(s);
  EXPECT_EQ(r.trade.unix_time, 1700000013);
  EXPECT_EQ(r.summary.trade_count, 120);
  EXPECT_EQ(r.summary.total_buy_volume, 482);
  EXPECT_EQ(r.summary.total_sell_volume, 485);
  EXPECT_EQ(r.summary.total_neutral_volume, 137);
  EXPECT_EQ(r.summary.net_delta, -3);
  EXPECT_EQ(r.summary.cumulative_delta, -3);
  EXPECT_DOUBLE_EQ(*r.summary.buy_sell_ratio, 482.0 / 485.0);
  EXPECT_DOUBLE_EQ(*r.summary.buy_percentage, 482.0 / 967.0 * 100.0);
  EXPECT_EQ(r.stats.trades, 120);
  EXPECT_EQ(r.stats.bid_hits, 49);
  EXPECT_EQ(r.stats.ask_hits, 63);
  EXPECT_EQ(r.stats.inside_spread, 8);
  EXPECT_EQ(r.stats.no_quote_trades, 0);
  EXPECT_EQ(*r.stats.true_delta_percentage(), 100.0);
}

TEST(StudiesReplay, MultiDeltaWindow5EvictsByTickTime) {
  MultiDeltaStudy s({5, 0});
  const auto r = replay(s);
  EXPECT_EQ(r.summary.trade_count, 43);
  EXPECT_EQ(r.summary.total_buy_volume, 189);
  EXPECT_EQ(r.summary.total_sell_volume, 176);
  EXPECT_EQ(r.summary.total_neutral_volume, 13);
  EXPECT_EQ(r.summary.net_delta, 13);
  EXPECT_EQ(r.summary.cumulative_delta, -3);
}

TEST(StudiesReplay, MultiDeltaNeutralZone40) {
  MultiDeltaStudy s({60, 40});
  const auto r = replay(s);
  EXPECT_EQ(r.summary.total_buy_volume, 487);
  EXPECT_EQ(r.summary.total_sell_volume, 527);
  EXPECT_EQ(r.summary.total_neutral_volume, 90);
  EXPECT_EQ(r.summary.cumulative_delta, -40);
  EXPECT_EQ(r.stats.bid_hits, 51);
  EXPECT_EQ(r.stats.ask_hits, 65);
  EXPECT_EQ(r.stats.inside_spread, 4);
}

TEST(StudiesReplay, DeltaTickRule) {
  DeltaStudy s(60);
  auto r = replay(s);
  EXPECT_EQ(r.summary.trade_count, 120);
  EXPECT_EQ(r.summary.total_buy_volume, 527);
  EXPECT_EQ(r.summary.total_sell_volume, 567);
  EXPECT_EQ(r.summary.total_neutral_volume, 10);
  EXPECT_EQ(r.summary.net_delta, -40);
  EXPECT_EQ(r.stats.no_quote_trades, 120);
  DeltaStudy s3(3);
  r = replay(s3);
  EXPECT_EQ(r.summary.trade_count, 19);
  EXPECT_EQ(r.summary.total_buy_volume, 84);
  EXPECT_EQ(r.summary.total_sell_volume, 87);
  EXPECT_EQ(r.summary.net_delta, -3);
  EXPECT_EQ(r.summary.cumulative_delta, -40);
}

// studies::MultiDeltaFeed, the multi-delta study fed as ib-studies feeds it
// (the server's GET /studies/{contract}/delta): the committed recording
// gives ib-studies' exact summary (test_studies.py's --replay numbers), ticks
// of one server timestamp go trades first, a record's ticks apply at once,
// a tick stamped before its stream's previous one keeps its place, and
// ticks the study does not use are ignored.
#include "studies/multi_delta_feed.hpp"
#include "studies/study_output.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace studies;

namespace {

const std::filesystem::path kRecording = std::filesystem::path(__FILE__).parent_path() / ".." /
                                         ".." / "data" / "studies" / "mnq_711280073_seed7.jsonl";

StreamEvent trade(const char* stamp, double price, double size, const char* type = "Last") {
  StreamEvent e;
  e.type = "tick";
  e.timestamp = stamp;
  Trade t;
  t.price = price;
  t.size = size;
  t.unix_time = 1700000000;
  t.tick_type = type;
  e.tick = t;
  return e;
}

StreamEvent quote(const char* stamp, double bid, double ask) {
  StreamEvent e;
  e.type = "tick";
  e.timestamp = stamp;
  Quote q;
  q.bid = bid;
  q.ask = ask;
  q.unix_time = 1700000000;
  e.tick = q;
  return e;
}

} // namespace

TEST(MultiDeltaFeed, TheCommittedRecordingGivesIbStudiesSummary) {
  std::ifstream in(kRecording);
  ASSERT_TRUE(in) << kRecording;
  MultiDeltaFeed feed;
  std::vector<FedTrade> out;
  std::string line, error;
  while (std::getline(in, line)) {
    StreamEvent ev;
    ASSERT_TRUE(parse_stream_event(line, ev, error)) << error;
    feed.push(std::move(ev), out);
  }
  feed.flush(out);
  ASSERT_EQ(out.size(), 120u);
  const auto& last = out.back().result;
  EXPECT_EQ(last.summary.cumulative_delta, -3);
  EXPECT_EQ(last.summary.total_buy_volume, 482);
  EXPECT_EQ(last.summary.total_sell_volume, 485);
  EXPECT_EQ(last.stats.bid_hits, 49);
  EXPECT_EQ(last.stats.ask_hits, 63);
  EXPECT_EQ(last.stats.inside_spread, 8);
  // The JSON object is the one `ib-studies --json` prints for the trade.
  const auto json =
      boost::json::parse(format_trade_json(last, 711280073, out.back().event_timestamp))
          .as_object();
  EXPECT_EQ(json.at("study").as_string(), "multi_delta");
  EXPECT_EQ(json.at("summary").at("cumulative_delta").to_number<double>(), -3);
}

TEST(MultiDeltaFeed, TradesFirstWithinOneTimestampThenFlush) {
  MultiDeltaFeed feed;
  std::vector<FedTrade> out;
  feed.apply_now(quote("a", 10, 11), out);
  // The quote that the trade caused arrives first, with the same stamp.
  feed.push(quote("b", 11, 12), out);
  feed.push(trade("b", 11, 2), out);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(feed.holding());
  feed.flush(out);
  EXPECT_FALSE(feed.holding());
  ASSERT_EQ(out.size(), 1u);
  // Classified against the quote before it (10 x 11): an ask hit.
  EXPECT_EQ(out[0].result.delta, 2);
  EXPECT_EQ(out[0].result.quote->ask, 11);
  EXPECT_EQ(out[0].event_timestamp, "b");
}

TEST(MultiDeltaFeed, AStampBeforeItsStreamsLastKeepsItsPlace) {
  MultiDeltaFeed feed;
  std::vector<FedTrade> out;
  feed.apply_now(quote("t5", 10, 11), out);
  feed.apply_now(trade("t5", 10, 1), out); // a bid hit from the record, sent at t5
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].result.delta, -1);
  // Live ticks stamped before the record's send time: ordered at t5.
  feed.push(trade("t3", 11, 3), out);
  feed.push(quote("t6", 20, 21), out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].event_timestamp, "t5");
  EXPECT_EQ(out[1].result.delta, 3); // against 10 x 11, not 20 x 21
  EXPECT_EQ(out[1].result.summary.cumulative_delta, 2);
}

TEST(MultiDeltaFeed, IgnoresTicksTheStudyDoesNotUse) {
  MultiDeltaFeed feed;
  std::vector<FedTrade> out;
  feed.apply_now(trade("a", 10, 1, "AllLast"), out);
  StreamEvent mid;
  mid.timestamp = "a";
  feed.apply_now(std::move(mid), out);
  EXPECT_TRUE(out.empty());
  feed.apply_now(trade("b", 10, 1), out);
  EXPECT_EQ(out.size(), 1u);
}

// ib-studies' SSE event ids: `seq` (live) and `seq.sub` (backfilled),
// ordered on (seq, sub), and the gap rule between two received ids.
#include "studies_cli/event_id.hpp"

#include <gtest/gtest.h>

#include <vector>

using studies_cli::EventId;
using studies_cli::parse_event_id;
using studies_cli::ticks_missing_between;

namespace {

EventId id(const char* text) {
  auto out = parse_event_id(text);
  EXPECT_TRUE(out) << text;
  return out.value_or(EventId{});
}

} // namespace

TEST(StudiesEventId, ParsesLiveAndBackfilledIdsKeepingTheText) {
  const auto live = id("5120");
  EXPECT_EQ(live.seq, 5120u);
  EXPECT_EQ(live.sub, 0u);
  EXPECT_EQ(live.text, "5120");
  const auto back = id("5120.3");
  EXPECT_EQ(back.seq, 5120u);
  EXPECT_EQ(back.sub, 3u);
  EXPECT_EQ(back.text, "5120.3"); // sent back as it came (Last-Event-ID)
  EXPECT_EQ(id("18446744073709551615").seq, 18446744073709551615u);
}

TEST(StudiesEventId, RejectsWhatIsNotAnId) {
  for (const char* bad : {"", ".", "5.", ".3", "5..3", "5.3.1", "-5", "+5", " 5", "5 ", "5a",
                          "5.-1", "abc", "18446744073709551616", "1.18446744073709551616"})
    EXPECT_FALSE(parse_event_id(bad)) << "'" << bad << "'";
}

TEST(StudiesEventId, OrdersOnSeqThenSub) {
  // The order of the record: a gap's backfilled ticks after the live tick
  // before it, then the next live tick.
  const std::vector<EventId> ordered = {id("9"),     id("10"), id("10.1"), id("10.2"),
                                        id("10.10"), id("11"), id("11.1"), id("12")};
  for (std::size_t i = 0; i < ordered.size(); ++i)
    for (std::size_t j = 0; j < ordered.size(); ++j) {
      EXPECT_EQ(ordered[i] < ordered[j], i < j) << ordered[i].text << " vs " << ordered[j].text;
      EXPECT_EQ(ordered[i] == ordered[j], i == j) << ordered[i].text << " vs " << ordered[j].text;
    }
  // Numerically, not as text: 10.10 after 10.2, 100 after 99.5.
  EXPECT_LT(id("10.2"), id("10.10"));
  EXPECT_LT(id("99.5"), id("100"));
}

TEST(StudiesEventId, BackfilledTicksMakeNoGap) {
  const std::vector<EventId> received = {id("5120"), id("5120.1"), id("5120.2"),
                                         id("5121"), id("5121.1"), id("5122")};
  for (std::size_t i = 1; i < received.size(); ++i)
    EXPECT_EQ(ticks_missing_between(received[i - 1], received[i]), 0u) << received[i].text;
  EXPECT_EQ(ticks_missing_between(id("7"), id("7")), 0u);
}

TEST(StudiesEventId, AJumpInLiveSequenceNumbersIsAGap) {
  EXPECT_EQ(ticks_missing_between(id("5120"), id("5123")), 2u);
  EXPECT_EQ(ticks_missing_between(id("5120.2"), id("5122")), 1u); // 5121 missing
  EXPECT_EQ(ticks_missing_between(id("5120"), id("5122.4")), 1u);
}

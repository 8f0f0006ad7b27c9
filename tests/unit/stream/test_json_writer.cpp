// stream::JsonWriter, the one JSON writer of the project: commas, escapes,
// numbers, splicing, and output that parses back to what was written.
#include "stream/json_writer.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace {

using stream::JsonWriter;

TEST(JsonWriter, PlacesCommasItself) {
  std::string out;
  {
    JsonWriter w(out);
    w.begin_object()
        .member("a", 1)
        .key("b")
        .begin_array()
        .integer(1)
        .string("x")
        .begin_object()
        .end_object()
        .begin_array()
        .end_array()
        .null()
        .end_array()
        .member("c", true)
        .end_object();
  }
  EXPECT_EQ(out, R"({"a":1,"b":[1,"x",{},[],null],"c":true})");
}

TEST(JsonWriter, NumbersAreShortestRoundTripAndNonFiniteIsNull) {
  std::string out;
  {
    JsonWriter w(out);
    w.begin_array()
        .number(175.25)
        .number(0.1 + 0.2)
        .number(-0.0)
        .number(1e21)
        .number(std::numeric_limits<double>::infinity())
        .number(std::nan(""))
        .integer(-9007199254740993LL)
        .uinteger(18446744073709551615ULL)
        .end_array();
  }
  EXPECT_EQ(out, "[175.25,0.30000000000000004,-0,1e+21,null,null,-9007199254740993,"
                 "18446744073709551615]");
}

TEST(JsonWriter, StringsAreEscapedAndInvalidUtf8BecomesReplacement) {
  std::string out;
  {
    JsonWriter w(out);
    w.begin_array()
        .string("plain")
        .string("quote \" backslash \\ newline \n tab \t nul " + std::string(1, '\0'))
        .string("caf\xc3\xa9 \xe2\x82\xac")
        .string("bad \xff\xfe end")
        .string(std::string(300, 'y'))
        .end_array();
  }
  const auto v = boost::json::parse(out).as_array();
  EXPECT_EQ(v[0].as_string(), "plain");
  EXPECT_EQ(v[1].as_string(),
            "quote \" backslash \\ newline \n tab \t nul " + std::string(1, '\0'));
  EXPECT_EQ(v[2].as_string(), "caf\xc3\xa9 \xe2\x82\xac");
  EXPECT_EQ(v[3].as_string(), "bad \xef\xbf\xbd\xef\xbf\xbd end");
  EXPECT_EQ(v[4].as_string(), std::string(300, 'y'));
}

TEST(JsonWriter, SplicesValuesAndMembersWrittenElsewhere) {
  std::string out;
  {
    JsonWriter w(out);
    w.begin_object()
        .key("data")
        .raw(R"({"x":1})")
        .raw_members("")
        .raw_members(R"("y":2,"z":3)")
        .member("t", std::optional<int>())
        .member("u", std::optional<int>(4))
        .end_object();
  }
  EXPECT_EQ(out, R"({"data":{"x":1},"y":2,"z":3,"t":null,"u":4})");
}

TEST(JsonWriter, ContinuesAnObjectOpenedByAnother) {
  std::string out = R"({"type":"tick","request_id":"r",)";
  {
    JsonWriter w(out);
    w.member("contract_id", 1).end_object();
  }
  EXPECT_EQ(out, R"({"type":"tick","request_id":"r","contract_id":1})");
}

TEST(JsonWriter, UtcTimesAndLongOutputGoThroughTheBuffer) {
  std::string out;
  {
    JsonWriter w(out);
    w.begin_array();
    for (int i = 0; i < 100; ++i) w.utc_time(1736937000 + i * 86400LL);
    w.end_array();
  }
  const auto v = boost::json::parse(out).as_array();
  ASSERT_EQ(v.size(), 100u);
  EXPECT_EQ(v[0].as_string(), "2025-01-15 10:30:00");
  EXPECT_EQ(v[99].as_string(), "2025-04-24 10:30:00");
}

} // namespace

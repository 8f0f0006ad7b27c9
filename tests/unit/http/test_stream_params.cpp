// Every row of api.md §2's parameter table: accepted values, defaults, and
// each invalid value answered with 400 INVALID_PARAMETER naming it.
#include "http/stream_params.hpp"

#include <gtest/gtest.h>

namespace {

using http::ApiError;
using http::StreamRequest;

std::variant<StreamRequest, ApiError> parse(std::string_view id, std::string_view query,
                                            std::optional<std::string_view> type = std::nullopt,
                                            std::optional<std::string_view> header = std::nullopt) {
  return http::parse_stream_request(id, type, query, 300, header);
}

StreamRequest ok(std::string_view id, std::string_view query,
                 std::optional<std::string_view> type = std::nullopt,
                 std::optional<std::string_view> header = std::nullopt) {
  auto r = parse(id, query, type, header);
  if (auto* e = std::get_if<ApiError>(&r)) ADD_FAILURE() << e->message;
  return std::holds_alternative<StreamRequest>(r) ? std::get<StreamRequest>(r) : StreamRequest{};
}

ApiError bad(std::string_view id, std::string_view query,
             std::optional<std::string_view> type = std::nullopt,
             std::optional<std::string_view> header = std::nullopt) {
  auto r = parse(id, query, type, header);
  EXPECT_TRUE(std::holds_alternative<ApiError>(r)) << id << "?" << query;
  return std::holds_alternative<ApiError>(r) ? std::get<ApiError>(r) : ApiError{};
}

TEST(StreamParams, Defaults) {
  const auto r = ok("265598", "");
  EXPECT_EQ(r.contract_id, 265598);
  EXPECT_EQ(r.tick_type, tws::TickType::last);
  EXPECT_FALSE(r.limit);
  EXPECT_EQ(r.timeout_seconds, 300);
  EXPECT_FALSE(r.last_event_id);
}

TEST(StreamParams, SeedExamples) {
  auto r = ok("265598", "tick_type=BidAsk&limit=100");
  EXPECT_EQ(r.tick_type, tws::TickType::bid_ask);
  EXPECT_EQ(r.limit, 100);
  r = ok("265598", "tick_type=Last&timeout=300");
  EXPECT_EQ(r.timeout_seconds, 300);
  r = ok("265598", "tick_type=MidPoint&limit=50");
  EXPECT_EQ(r.tick_type, tws::TickType::mid_point);
}

TEST(StreamParams, TickTypeIsCaseInsensitiveAndPathWins) {
  EXPECT_EQ(ok("1", "tick_type=alllast").tick_type, tws::TickType::all_last);
  EXPECT_EQ(ok("1", "tick_type=BIDASK").tick_type, tws::TickType::bid_ask);
  EXPECT_EQ(ok("1", "tick_type=BidAsk", std::string_view("MidPoint")).tick_type,
            tws::TickType::mid_point);
  auto e = bad("1", "", std::string_view("Trades"));
  EXPECT_NE(e.message.find("tick_type"), std::string::npos);
}

TEST(StreamParams, RangesAtTheEdges) {
  EXPECT_EQ(ok("1", "limit=1").limit, 1);
  EXPECT_EQ(ok("1", "limit=10000").limit, 10000);
  EXPECT_EQ(ok("1", "timeout=5").timeout_seconds, 5);
  EXPECT_EQ(ok("1", "timeout=3600").timeout_seconds, 3600);
  EXPECT_EQ(ok("2147483647", "").contract_id, 2147483647);
  EXPECT_EQ(ok("1", "format=sse").contract_id, 1);
}

TEST(StreamParams, EachInvalidValueNamesItsParameter) {
  struct Case {
    const char* id;
    const char* query;
    const char* names;
  };
  const Case cases[] = {
      {"0", "", "contract_id"},
      {"-1", "", "contract_id"},
      {"abc", "", "contract_id"},
      {"2147483648", "", "contract_id"},
      {"12.5", "", "contract_id"},
      {"", "", "contract_id"},
      {"1", "tick_type=Trades", "tick_type"},
      {"1", "limit=0", "limit"},
      {"1", "limit=10001", "limit"},
      {"1", "limit=abc", "limit"},
      {"1", "limit=-5", "limit"},
      {"1", "limit=", "limit"},
      {"1", "timeout=4", "timeout"},
      {"1", "timeout=3601", "timeout"},
      {"1", "timeout=1e3", "timeout"},
      {"1", "format=json", "format"},
      {"1", "limit=5&limit=6", "limit"},
      {"1", "limit", "limit"},
      {"1", "last_event_id=x", "last event id"},
  };
  for (const auto& c : cases) {
    const auto e = bad(c.id, c.query);
    EXPECT_EQ(e.status, 400) << c.id << "?" << c.query;
    EXPECT_EQ(e.code, "INVALID_PARAMETER");
    EXPECT_NE(e.message.find(c.names), std::string::npos)
        << c.id << "?" << c.query << " -> " << e.message;
  }
  // The valid range is in the message.
  EXPECT_NE(bad("1", "limit=0").message.find("1 to 10000"), std::string::npos);
  EXPECT_NE(bad("1", "timeout=1").message.find("5 to 3600"), std::string::npos);
}

TEST(StreamParams, UnknownParametersAreIgnored) {
  EXPECT_EQ(ok("1", "foo=bar&limit=3&_=123").limit, 3);
  // tick_type on the /{tick_type} path is just another unknown parameter.
  EXPECT_EQ(ok("1", "tick_type=nonsense", std::string_view("Last")).tick_type, tws::TickType::last);
}

TEST(StreamParams, PercentEncodedValues) {
  EXPECT_EQ(ok("1", "tick_type=%42idAsk").tick_type, tws::TickType::bid_ask);
}

TEST(StreamParams, LastEventIdFromHeaderOrQuery) {
  EXPECT_EQ(ok("1", "last_event_id=41").last_event_id, 41u);
  EXPECT_EQ(ok("1", "", std::nullopt, std::string_view("42")).last_event_id, 42u);
  // The header wins over the query parameter.
  EXPECT_EQ(ok("1", "last_event_id=41", std::nullopt, std::string_view("42")).last_event_id, 42u);
  EXPECT_EQ(bad("1", "", std::nullopt, std::string_view("4x")).code, "INVALID_PARAMETER");
}

} // namespace

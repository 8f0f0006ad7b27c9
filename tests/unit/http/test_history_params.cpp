// The history and replay endpoints' parameters: every time form, durations,
// limits, formats, the cursor (round trip, tampering, foreign), replay
// tick types and speeds, and the parameter each bad input names; the
// settings of the record; the CSV and JSON encodings of a recorded tick.
#include "http/history_format.hpp"
#include "http/history_params.hpp"
#include "http/router.hpp"
#include "http/server_config.hpp"

#include <gtest/gtest.h>

#include <map>

namespace {

using http::ApiError;
using http::HistoryRequest;
using http::ReplayRequest;

constexpr std::int64_t kNow = 1764862200000; // 2025-12-04T15:30:00Z

std::int64_t time_of(std::string_view text) {
  auto r = http::parse_time_param("start", text);
  if (auto* e = std::get_if<ApiError>(&r)) ADD_FAILURE() << text << ": " << e->message;
  return std::get_if<std::int64_t>(&r) ? std::get<std::int64_t>(r) : -1;
}

ApiError time_error(std::string_view name, std::string_view text) {
  auto r = http::parse_time_param(name, text);
  EXPECT_TRUE(std::holds_alternative<ApiError>(r)) << text;
  return std::holds_alternative<ApiError>(r) ? std::get<ApiError>(r) : ApiError{};
}

std::variant<HistoryRequest, ApiError> history(std::string_view query,
                                               std::string_view type = "BidAsk",
                                               std::string_view contract = "265598") {
  return http::parse_history_request(contract, type, query, kNow);
}

HistoryRequest history_ok(std::string_view query, std::string_view type = "BidAsk") {
  auto r = history(query, type);
  if (auto* e = std::get_if<ApiError>(&r)) ADD_FAILURE() << query << ": " << e->message;
  return std::holds_alternative<HistoryRequest>(r) ? std::get<HistoryRequest>(r) : HistoryRequest{};
}

/// The error of a bad request: 400 INVALID_PARAMETER whose message names `param`.
void expect_names(const std::variant<HistoryRequest, ApiError>& r, std::string_view param) {
  ASSERT_TRUE(std::holds_alternative<ApiError>(r)) << param;
  const auto& e = std::get<ApiError>(r);
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.code, "INVALID_PARAMETER");
  EXPECT_NE(e.message.find(param), std::string::npos) << e.message;
}
void expect_names(const std::variant<ReplayRequest, ApiError>& r, std::string_view param) {
  ASSERT_TRUE(std::holds_alternative<ApiError>(r)) << param;
  const auto& e = std::get<ApiError>(r);
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.code, "INVALID_PARAMETER");
  EXPECT_NE(e.message.find(param), std::string::npos) << e.message;
}

std::variant<ReplayRequest, ApiError> replay(std::string_view query) {
  return http::parse_replay_request("265598", query, kNow);
}

TEST(HistoryTime, EveryForm) {
  const std::int64_t t = 1733326200000; // 2024-12-04T15:30:00Z
  EXPECT_EQ(time_of("2024-12-04T15:30:00Z"), t);
  EXPECT_EQ(time_of("2024-12-04t15:30:00z"), t);
  EXPECT_EQ(time_of("2024-12-04 15:30:00Z"), t);
  EXPECT_EQ(time_of("2024-12-04T15:30:00"), t); // no offset: UTC
  EXPECT_EQ(time_of("2024-12-04T15:30Z"), t);
  EXPECT_EQ(time_of("2024-12-04T15:30:00.123Z"), t + 123);
  EXPECT_EQ(time_of("2024-12-04T15:30:00.5Z"), t + 500);
  EXPECT_EQ(time_of("2024-12-04T15:30:00.123456789Z"), t + 123);
  EXPECT_EQ(time_of("2024-12-04T10:30:00-05:00"), t);
  EXPECT_EQ(time_of("2024-12-04T17:00:00+0130"), t);
  EXPECT_EQ(time_of("2024-12-04T16:30:00+01"), t);
  EXPECT_EQ(time_of("2024-12-04"), t - (15 * 3600 + 30 * 60) * 1000LL);
  EXPECT_EQ(time_of("1733326200"), t);
  EXPECT_EQ(time_of("1733326200123"), t + 123);
  EXPECT_EQ(time_of("0"), 0);
  EXPECT_EQ(time_of("1970-01-01"), 0);
  EXPECT_EQ(time_of("2024-02-29"), 1709164800000);
  EXPECT_EQ(time_of("2000-03-01T00:00:00Z"), 951868800000);
}

TEST(HistoryTime, BadFormsNameTheParameter) {
  for (std::string_view bad :
       {"", "yesterday", "2024-13-01", "2024-02-30", "2023-02-29", "2024-12-04T24:00:00Z",
        "2024-12-04T15:60:00Z", "2024-12-04T15:30:61Z", "2024-12-04T15:30:00+25:00",
        "2024-12-04T15:30:00Zjunk", "2024-12-04T15", "2024-12-4", "1969-12-31", "-5",
        "12345678901234567", "1.5", "2024-12-04T15:30:00.Z", "2024-12-04X15:30:00Z",
        "1970-01-01T00:00:00+01:00"}) {
    const auto e = time_error("end", bad);
    EXPECT_EQ(e.status, 400) << bad;
    EXPECT_EQ(e.code, "INVALID_PARAMETER") << bad;
    EXPECT_EQ(e.message.rfind("Invalid end '", 0), 0u) << e.message;
    EXPECT_NE(e.message.find("ISO-8601"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("Unix milliseconds"), std::string::npos) << e.message;
  }
}

TEST(HistoryDuration, Units) {
  const auto secs = [](std::string_view d) {
    auto r = http::parse_duration_param(d);
    return std::holds_alternative<std::int64_t>(r) ? std::get<std::int64_t>(r) : -1;
  };
  EXPECT_EQ(secs("90s"), 90);
  EXPECT_EQ(secs("15m"), 900);
  EXPECT_EQ(secs("2h"), 7200);
  EXPECT_EQ(secs("7d"), 7 * 86400);
  EXPECT_EQ(secs("36500d"), 36500LL * 86400);
  for (std::string_view bad : {"", "s", "0s", "90", "1w", "-5m", "1.5h", "36501d", "h2", " 2h"})
    EXPECT_TRUE(std::holds_alternative<ApiError>(http::parse_duration_param(bad))) << bad;
}

TEST(HistoryRequest, DefaultsEndNowNoStart) {
  const auto r = history_ok("");
  EXPECT_EQ(r.contract_id, 265598);
  EXPECT_EQ(r.tick_type, tws::TickType::bid_ask);
  EXPECT_FALSE(r.start_ms);
  EXPECT_EQ(r.end_ms, kNow);
  EXPECT_EQ(r.limit, 10000u);
  EXPECT_EQ(r.format, http::HistoryFormat::json);
  EXPECT_FALSE(r.after);
}

TEST(HistoryRequest, TickTypeIsCaseInsensitive) {
  EXPECT_EQ(history_ok("", "bidask").tick_type, tws::TickType::bid_ask);
  EXPECT_EQ(history_ok("", "ALLLAST").tick_type, tws::TickType::all_last);
  EXPECT_EQ(history_ok("", "midpoint").tick_type, tws::TickType::mid_point);
  expect_names(history("", "Trades"), "tick_type");
  expect_names(history("", "BidAsk", "0"), "contract_id");
  expect_names(history("", "BidAsk", "abc"), "contract_id");
  expect_names(history("", "BidAsk", "2147483648"), "contract_id");
}

TEST(HistoryRequest, RangeAndDuration) {
  auto r = history_ok("start=2025-12-04&end=2025-12-04T12:00:00Z");
  EXPECT_EQ(*r.start_ms, 1764806400000);
  EXPECT_EQ(r.end_ms, 1764806400000 + 12 * 3600000LL);
  r = history_ok("duration=15m");
  EXPECT_EQ(r.end_ms, kNow);
  EXPECT_EQ(*r.start_ms, kNow - 900000);
  r = history_ok("duration=1h&end=1764806400");
  EXPECT_EQ(r.end_ms, 1764806400000);
  EXPECT_EQ(*r.start_ms, 1764806400000 - 3600000);
  expect_names(history("duration=1h&start=2025-12-04"), "duration");
  expect_names(history("start=2025-12-05&end=2025-12-04"), "start");
  expect_names(history("start=2025-12-04&end=2025-12-04"), "start");
  expect_names(history("start=junk"), "start");
  expect_names(history("end=junk"), "end");
  expect_names(history("duration=forever"), "duration");
}

TEST(HistoryRequest, LimitBounds) {
  EXPECT_EQ(history_ok("limit=1").limit, 1u);
  EXPECT_EQ(history_ok("limit=100000").limit, 100000u);
  for (std::string_view q :
       {"limit=0", "limit=100001", "limit=-1", "limit=ten", "limit=", "limit=99999999999"})
    expect_names(history(q), "limit");
  const auto r = history("limit=0");
  EXPECT_NE(std::get<ApiError>(r).message.find("1 to 100000"), std::string::npos);
}

TEST(HistoryRequest, Formats) {
  EXPECT_EQ(history_ok("format=json").format, http::HistoryFormat::json);
  EXPECT_EQ(history_ok("format=ndjson").format, http::HistoryFormat::ndjson);
  EXPECT_EQ(history_ok("format=csv").format, http::HistoryFormat::csv);
  expect_names(history("format=xml"), "format");
  expect_names(history("format=sse"), "format");
}

TEST(HistoryRequest, RepeatedValuelessAndUnknownParameters) {
  expect_names(history("limit=5&limit=6"), "limit");
  expect_names(history("start"), "start");
  // Unknown parameters are ignored, as on the stream endpoints (api_key...).
  EXPECT_EQ(history_ok("api_key=secret123&foo=bar&limit=7").limit, 7u);
}

TEST(HistoryCursor, RoundTrip) {
  http::HistoryCursor c{265598, tws::TickType::all_last, 1764806400000, kNow, {123456789, 7}};
  const auto token = http::encode_cursor(c);
  EXPECT_EQ(
      token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos)
      << token;
  EXPECT_EQ(http::decode_cursor(token), c);
  c.start_ms.reset();
  c.after = {UINT64_MAX, UINT32_MAX};
  EXPECT_EQ(http::decode_cursor(http::encode_cursor(c)), c);

  // Paging carries the cursor's range and position.
  c = {265598, tws::TickType::bid_ask, 1764806400000, 1764810000000, {42, 3}};
  const auto r = history_ok("cursor=" + http::encode_cursor(c) + "&limit=5");
  EXPECT_EQ(r.start_ms, c.start_ms);
  EXPECT_EQ(r.end_ms, c.end_ms);
  ASSERT_TRUE(r.after);
  EXPECT_EQ(*r.after, (store::Position{42, 3}));
  EXPECT_EQ(r.limit, 5u);
  // The same start/end again is fine; a duration is ignored with a cursor.
  EXPECT_TRUE(r.after ==
              history_ok("start=1764806400&end=1764810000&cursor=" + http::encode_cursor(c)).after);
  EXPECT_TRUE(history_ok("duration=1h&cursor=" + http::encode_cursor(c)).after);
}

TEST(HistoryCursor, TamperedMalformedAndForeignAreRefused) {
  const http::HistoryCursor c{265598, tws::TickType::bid_ask, std::nullopt, kNow, {42, 0}};
  const std::string token = http::encode_cursor(c);
  for (std::size_t i = 0; i < token.size(); ++i) {
    std::string t = token;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(http::decode_cursor(t)) << i;
    expect_names(history("cursor=" + t), "cursor");
  }
  for (std::string bad : {std::string(), std::string("abc"), token + "A", token.substr(1),
                          std::string("!!!!"), std::string(token.size(), '_')}) {
    EXPECT_FALSE(http::decode_cursor(bad)) << bad;
    expect_names(history("cursor=" + bad), "cursor");
  }
  // Another contract's or tick type's cursor.
  expect_names(history("cursor=" + token, "Last"), "cursor");
  expect_names(history("cursor=" + token, "BidAsk", "8314"), "cursor");
  // Another range given with it.
  expect_names(history("start=2025-12-01&cursor=" + token), "cursor");
  expect_names(history("end=2025-12-01&cursor=" + token), "cursor");
}

TEST(ReplayRequest, Valid) {
  auto r = replay("tick_types=BidAsk,last&start=2025-12-04T14:00:00Z&end=2025-12-04T15:00:00Z");
  ASSERT_TRUE(std::holds_alternative<ReplayRequest>(r)) << std::get<ApiError>(r).message;
  auto q = std::get<ReplayRequest>(r);
  EXPECT_EQ(q.contract_id, 265598);
  EXPECT_EQ(q.tick_types, (std::vector{tws::TickType::bid_ask, tws::TickType::last}));
  EXPECT_EQ(q.start_ms, 1764856800000);
  EXPECT_EQ(q.end_ms, 1764860400000);
  EXPECT_EQ(q.speed, 1.0);
  q = std::get<ReplayRequest>(replay("tick_types=MidPoint&duration=90s&speed=max"));
  EXPECT_EQ(q.speed, 0.0);
  EXPECT_EQ(q.end_ms, kNow);
  EXPECT_EQ(q.start_ms, kNow - 90000);
  q = std::get<ReplayRequest>(replay("tick_types=Last&start=1764856800&end=1764860400&speed=10"));
  EXPECT_EQ(q.speed, 10.0);
}

TEST(ReplayRequest, BadParametersAreNamed) {
  const std::string range = "&start=2025-12-04T14:00:00Z&end=2025-12-04T15:00:00Z";
  expect_names(replay(range.substr(1)), "tick_types");
  expect_names(replay("tick_types=" + range), "tick_types");
  expect_names(replay("tick_types=Bid" + range), "tick_types");
  expect_names(replay("tick_types=Last,last" + range), "tick_types");
  expect_names(replay("tick_types=Last,,BidAsk" + range), "tick_types");
  expect_names(replay("tick_types=Last&end=2025-12-04"), "start");
  expect_names(replay("tick_types=Last&start=2025-12-04"), "end");
  expect_names(replay("tick_types=Last&start=2025-12-04&duration=1h"), "duration");
  expect_names(replay("tick_types=Last&start=2025-12-05&end=2025-12-04"), "start");
  for (std::string_view s : {"0", "fast", "-1", "1e9", "", "nan"})
    expect_names(replay("tick_types=Last" + range + "&speed=" + std::string(s)), "speed");
  expect_names(http::parse_replay_request("x", "tick_types=Last" + range, kNow), "contract_id");
}

TEST(HistoryRoutes, PathsAndMethods) {
  auto r = http::route_request("GET", "/history/265598/BidAsk?limit=5");
  EXPECT_EQ(r.endpoint, http::Endpoint::history);
  EXPECT_EQ(r.contract_segment, "265598");
  EXPECT_EQ(r.tick_type, "BidAsk");
  EXPECT_EQ(r.query, "limit=5");
  EXPECT_EQ(http::route_request("GET", "/history/265598").endpoint,
            http::Endpoint::history_summary);
  EXPECT_EQ(http::route_request("GET", "/replay/265598?tick_types=Last").endpoint,
            http::Endpoint::replay);
  EXPECT_EQ(http::route_request("DELETE", "/history/1/Last").endpoint, http::Endpoint::bad_method);
  EXPECT_EQ(http::route_request("OPTIONS", "/replay/1").endpoint, http::Endpoint::preflight);
  EXPECT_EQ(http::route_request("GET", "/history").endpoint, http::Endpoint::not_found);
  EXPECT_EQ(http::route_request("GET", "/history/1/Last/x").endpoint, http::Endpoint::not_found);
  EXPECT_EQ(http::route_request("GET", "/replay/1/Last").endpoint, http::Endpoint::not_found);
}

std::variant<http::ServerConfig, std::string>
load(std::map<std::string, std::string> env,
     std::vector<std::pair<std::string, std::string>> flags = {}) {
  return http::load_server_config(
      [env](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
      },
      flags);
}

TEST(RecordSettings, DefaultsVariablesFlagsAndBadValues) {
  auto c = std::get<http::ServerConfig>(load({}));
  EXPECT_EQ(c.data_dir, "./data");
  EXPECT_EQ(c.retention_days, 30);
  c = std::get<http::ServerConfig>(
      load({{"IB_STREAM_DATA_DIR", "/var/lib/ibs"}, {"IB_STREAM_RETENTION_DAYS", "0"}}));
  EXPECT_EQ(c.data_dir, "/var/lib/ibs");
  EXPECT_EQ(c.retention_days, 0);
  c = std::get<http::ServerConfig>(load({{"IB_STREAM_RETENTION_DAYS", "5"}},
                                        {{"--retention-days", "36500"}, {"--data-dir", "d2"}}));
  EXPECT_EQ(c.retention_days, 36500);
  EXPECT_EQ(c.data_dir, "d2");
  for (std::string bad : {"-1", "36501", "x", ""}) {
    auto r = load({{"IB_STREAM_RETENTION_DAYS", bad}});
    ASSERT_TRUE(std::holds_alternative<std::string>(r)) << bad;
    EXPECT_NE(std::get<std::string>(r).find("IB_STREAM_RETENTION_DAYS"), std::string::npos);
    EXPECT_NE(std::get<std::string>(r).find("0 to 36500"), std::string::npos);
  }
  auto r = load({}, {{"--data-dir", ""}});
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_NE(std::get<std::string>(r).find("--data-dir"), std::string::npos);
  const auto usage = http::server_usage();
  EXPECT_NE(usage.find("--data-dir"), std::string::npos);
  EXPECT_NE(usage.find("IB_STREAM_RETENTION_DAYS"), std::string::npos);
}

store::TickRecord last_record() {
  store::TickRecord r;
  r.con_id = 265598;
  r.tick_type = tws::TickType::last;
  r.seq = 17;
  r.sub = 2;
  r.ib_time = 1764862200;
  r.source = store::Source::backfill;
  tws::TickByTickLast t;
  t.type = tws::TickType::last;
  t.time = r.ib_time;
  t.price = 175.25;
  t.size = 100;
  t.exchange = "NASDAQ";
  t.special_conditions = "a,\"b\"";
  t.unreported = true;
  r.tick = t;
  return r;
}

TEST(HistoryFormat, RecordJsonIsTheTickObjectWithSeqSubAndSource) {
  std::string out;
  http::append_record_json(out, last_record());
  EXPECT_EQ(out, "{\"type\":\"time_sales\",\"tick_type\":\"Last\",\"timestamp\":\"2025-12-04 "
                 "15:30:00\",\"unix_time\":1764862200,\"price\":175.25,\"size\":100,\"exchange\":"
                 "\"NASDAQ\",\"conditions\":\"a,\\\"b\\\"\",\"past_limit\":false,\"unreported\":"
                 "true,\"seq\":17,\"sub\":2,\"source\":\"backfill\"}");
  // A live tick has no position in a gap: no "sub".
  auto live = last_record();
  live.sub = 0;
  live.source = store::Source::live;
  out.clear();
  http::append_record_json(out, live);
  EXPECT_EQ(out.substr(out.find(",\"seq\"")), ",\"seq\":17,\"source\":\"live\"}");
}

TEST(HistoryFormat, CsvRowsQuoteAsRfc4180) {
  std::string out;
  http::append_csv_header(out, tws::TickType::last);
  http::append_csv_row(out, last_record());
  EXPECT_EQ(out, "seq,source,unix_time,timestamp,price,size,exchange,conditions,past_limit,"
                 "unreported\r\n17,backfill,1764862200,2025-12-04 15:30:00,175.25,100,NASDAQ,"
                 "\"a,\"\"b\"\"\",false,true\r\n");
  store::TickRecord q;
  q.tick_type = tws::TickType::bid_ask;
  q.seq = 3;
  q.ib_time = 1764862200;
  q.tick = tws::TickByTickBidAsk{0, 1764862200, 175.25, 175.26, 100, std::nullopt, true, false};
  out.clear();
  http::append_csv_header(out, tws::TickType::bid_ask);
  http::append_csv_row(out, q);
  EXPECT_EQ(out, "seq,source,unix_time,timestamp,bid_price,ask_price,bid_size,ask_size,"
                 "bid_past_low,ask_past_high\r\n3,live,1764862200,2025-12-04 "
                 "15:30:00,175.25,175.26,100,,true,false\r\n");
}

TEST(HistoryFormat, Chunks) {
  std::string out;
  http::append_chunk(out, std::string(300, 'x'));
  EXPECT_EQ(out.substr(0, 5), "12c\r\n");
  EXPECT_EQ(out.size(), 5 + 300 + 2u);
  out.clear();
  http::append_chunk(out, "");
  EXPECT_TRUE(out.empty());
}

} // namespace

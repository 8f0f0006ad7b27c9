#include "cli/format.hpp"
#include "cli/streamer.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

tws::TickByTickLast make_last() {
  tws::TickByTickLast t;
  t.req_id = 1;
  t.type = tws::TickType::last;
  t.time = 1705311000; // 2024-01-15 09:30:00 UTC
  t.price = 175.25;
  t.size = 100;
  t.exchange = "NASDAQ";
  return t;
}

TEST(CliFormat, TradeLineIsAligned) {
  EXPECT_EQ(cli::format_tick_line(make_last(), 4),
            "2024-01-15 09:30:00 |   175.2500 |        100 |   NASDAQ");
}

TEST(CliFormat, TradeLineShowsConditionsAndFlags) {
  auto t = make_last();
  t.special_conditions = "I";
  t.past_limit = true;
  t.unreported = true;
  EXPECT_EQ(cli::format_tick_line(t, 4),
            "2024-01-15 09:30:00 |   175.2500 |        100 |   NASDAQ | I | PL UR");
}

TEST(CliFormat, QuoteLine) {
  tws::TickByTickBidAsk q;
  q.time = 1705311000;
  q.bid_price = 175.25;
  q.ask_price = 175.26;
  q.bid_size = 100;
  q.ask_size = 200;
  EXPECT_EQ(cli::format_tick_line(q, 4),
            "2024-01-15 09:30:00 | Bid:   175.2500 x    100 | Ask:   175.2600 x    200");
  q.bid_past_low = true;
  q.ask_past_high = true;
  EXPECT_EQ(cli::format_tick_line(q, 4),
            "2024-01-15 09:30:00 | Bid:   175.2500 x    100 | Ask:   175.2600 x    200 | BPL APH");
}

TEST(CliFormat, MidPointLine) {
  tws::TickByTickMidPoint m;
  m.time = 1705311000;
  m.mid_point = 175.255;
  EXPECT_EQ(cli::format_tick_line(m, 4), "2024-01-15 09:30:00 | MidPoint:   175.2550");
}

TEST(CliFormat, PriceDecimalsFollowMinTick) {
  EXPECT_EQ(cli::price_decimals(0.01), 4);
  EXPECT_EQ(cli::price_decimals(0.25), 4);
  EXPECT_EQ(cli::price_decimals(0.00005), 5);
  EXPECT_EQ(cli::price_decimals(0.0), 4);
}

TEST(CliFormat, HeaderAndContractLine) {
  EXPECT_EQ(cli::format_header(265598, tws::TickType::bid_ask, 20),
            "Streaming BidAsk ticks for contract 265598 (max 20 ticks)");
  EXPECT_EQ(cli::format_header(265598, tws::TickType::last, 0),
            "Streaming Last ticks for contract 265598 (no tick limit)");
  tws::ContractDetails d;
  d.contract.symbol = "AAPL";
  d.contract.sec_type = "STK";
  d.contract.local_symbol = "AAPL";
  d.contract.exchange = "SMART";
  d.contract.primary_exchange = "NASDAQ";
  d.contract.currency = "USD";
  d.long_name = "APPLE INC";
  EXPECT_EQ(cli::format_contract_line(d),
            "Contract: AAPL STK AAPL @ SMART (NASDAQ) USD - APPLE INC");
}

TEST(CliFormat, JsonIsTheApiTickObject) {
  EXPECT_EQ(cli::format_tick_json(make_last()),
            R"({"type":"time_sales","tick_type":"Last","timestamp":"2024-01-15 09:30:00",)"
            R"("unix_time":1705311000,"price":175.25,"size":100,"exchange":"NASDAQ",)"
            R"("conditions":"","past_limit":false,"unreported":false})");
}

// ------------------------------------------------------------ options

std::variant<cli::StreamerOptions, int> parse(std::vector<std::string> args) {
  args.insert(args.begin(), "ib-stream");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return cli::parse_options(static_cast<int>(argv.size()), argv.data());
}

TEST(CliOptions, Defaults) {
  auto r = parse({"265598"});
  ASSERT_TRUE(std::holds_alternative<cli::StreamerOptions>(r));
  const auto& o = std::get<cli::StreamerOptions>(r);
  EXPECT_EQ(o.contract_id, 265598);
  EXPECT_EQ(o.type, tws::TickType::last);
  EXPECT_EQ(o.number, 0);
  EXPECT_EQ(o.client_id, 2);
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.ports, (std::vector<std::uint16_t>{7497, 7496, 4002, 4001}));
  EXPECT_FALSE(o.json);
  EXPECT_FALSE(o.simulate);
}

TEST(CliOptions, AllFlags) {
  auto r = parse({"12087792", "-n", "5", "-t", "bidask", "-j", "-v", "--client-id", "9", "--host",
                  "10.0.0.5", "--ports", "4002,4001"});
  ASSERT_TRUE(std::holds_alternative<cli::StreamerOptions>(r));
  const auto& o = std::get<cli::StreamerOptions>(r);
  EXPECT_EQ(o.contract_id, 12087792);
  EXPECT_EQ(o.number, 5);
  EXPECT_EQ(o.type, tws::TickType::bid_ask);
  EXPECT_TRUE(o.json);
  EXPECT_TRUE(o.verbose);
  EXPECT_EQ(o.client_id, 9);
  EXPECT_EQ(o.host, "10.0.0.5");
  EXPECT_EQ(o.ports, (std::vector<std::uint16_t>{4002, 4001}));
  auto single = parse({"1", "--port", "7496", "--type", "MidPoint"});
  ASSERT_TRUE(std::holds_alternative<cli::StreamerOptions>(single));
  EXPECT_EQ(std::get<cli::StreamerOptions>(single).ports, (std::vector<std::uint16_t>{7496}));
  EXPECT_EQ(std::get<cli::StreamerOptions>(single).type, tws::TickType::mid_point);
}

TEST(CliOptions, AContractSpecInsteadOfAnId) {
  auto r = parse({"es:fut:cme:usd:202703", "-t", "Last"});
  ASSERT_TRUE(std::holds_alternative<cli::StreamerOptions>(r));
  const auto& o = std::get<cli::StreamerOptions>(r);
  EXPECT_EQ(o.contract_id, 0);
  ASSERT_TRUE(o.spec);
  EXPECT_EQ(o.spec->text(), "ES:FUT:CME:USD:202703");
  r = parse({"AAPL"});
  ASSERT_TRUE(std::holds_alternative<cli::StreamerOptions>(r));
  EXPECT_EQ(std::get<cli::StreamerOptions>(r).spec->text(), "AAPL:STK:SMART:USD");
  r = parse({"265598"});
  ASSERT_TRUE(std::holds_alternative<cli::StreamerOptions>(r));
  EXPECT_EQ(std::get<cli::StreamerOptions>(r).contract_id, 265598);
  EXPECT_FALSE(std::get<cli::StreamerOptions>(r).spec);
}

TEST(CliOptions, UsageErrorsExitTwo) {
  const std::vector<std::vector<std::string>> bad = {
      {},                              // missing contract id
      {"abc:FUTURE"},                  // not a contract spec
      {"ES:FUT:CME:USD:2027"},         // a spec with a bad expiry
      {"0"},                           // not positive
      {"2147483648"},                  // does not fit int32
      {"265598", "-t", "Trades"},      // unknown tick type
      {"265598", "-n", "0"},           // limit must be >= 1
      {"265598", "--port", "70000"},   // not a port
      {"265598", "--ports", "7497,x"}, // bad list
      {"265598", "--port", "1", "--ports", "2"},
      {"265598", "--simulate", "--port", "7497"},
      {"265598", "--bogus"},
  };
  for (const auto& args : bad) {
    testing::internal::CaptureStderr();
    testing::internal::CaptureStdout();
    auto r = parse(args);
    testing::internal::GetCapturedStdout();
    const std::string err = testing::internal::GetCapturedStderr();
    ASSERT_TRUE(std::holds_alternative<int>(r)) << "accepted: " << testing::PrintToString(args);
    EXPECT_EQ(std::get<int>(r), cli::kExitUsage) << testing::PrintToString(args);
  }
}

} // namespace

// The JSON of the /contracts endpoints: summaries, the details with trading
// and liquid hours as UTC sessions (and local times), the status now, the
// samples of the fuzzy search; and the contract cache file.
#include "contracts/contract_cache.hpp"
#include "contracts/contract_json.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace {

namespace json = boost::json;

/// ES, CME, US/Central: the week of Monday 2026-12-07 (CST, UTC-6).
tws::ContractDetails es_details() {
  tws::ContractDetails d;
  auto& c = d.contract;
  c.con_id = 551601777;
  c.symbol = "ES";
  c.sec_type = "FUT";
  c.last_trade_date_or_contract_month = "20261218";
  c.multiplier = "50";
  c.exchange = "CME";
  c.currency = "USD";
  c.local_symbol = "ESZ6";
  c.trading_class = "ES";
  d.min_tick = 0.25;
  d.long_name = "E-mini S&P 500";
  d.contract_month = "202612";
  d.valid_exchanges = "CME,QBALGO";
  d.time_zone_id = "US/Central";
  d.trading_hours = "20261206:1700-20261207:1600;20261207:1700-20261208:1600;20261212:CLOSED";
  d.liquid_hours = "20261207:0830-20261207:1500;20261208:0830-20261208:1500;20261212:CLOSED";
  return d;
}

// 2026-12-07 00:00 UTC
constexpr std::int64_t kMonday = 1796601600;

TEST(ContractJson, IsoTimesInUtcAndLocal) {
  EXPECT_EQ(contracts::iso_utc(kMonday), "2026-12-07T00:00:00Z");
  EXPECT_EQ(contracts::iso_local(kMonday, -6 * 3600), "2026-12-06T18:00:00-06:00");
  EXPECT_EQ(contracts::iso_local(kMonday, 5 * 3600 + 1800), "2026-12-07T05:30:00+05:30");
}

TEST(ContractJson, DetailsCarryTheSessionsInUtcWithTheZoneNamed) {
  const auto v = json::parse(contracts::details_json(es_details(), kMonday)).as_object();
  EXPECT_EQ(v.at("contract_id").as_int64(), 551601777);
  EXPECT_EQ(v.at("local_symbol").as_string(), "ESZ6");
  EXPECT_EQ(v.at("expiry").as_string(), "20261218");
  EXPECT_EQ(v.at("multiplier").as_string(), "50");
  EXPECT_EQ(v.at("min_tick").as_double(), 0.25);
  EXPECT_EQ(v.at("time_zone").as_string(), "US/Central");
  EXPECT_EQ(v.at("valid_exchanges").as_array().size(), 2u);
  const auto& trading = v.at("trading_hours").as_array();
  ASSERT_EQ(trading.size(), 2u);
  // Sunday 17:00 CST = Sunday 23:00 UTC, to Monday 16:00 CST = 22:00 UTC.
  EXPECT_EQ(trading[0].at("open").as_string(), "2026-12-06T23:00:00Z");
  EXPECT_EQ(trading[0].at("close").as_string(), "2026-12-07T22:00:00Z");
  EXPECT_EQ(trading[0].at("open_local").as_string(), "2026-12-06T17:00:00-06:00");
  EXPECT_EQ(trading[1].at("open").as_string(), "2026-12-07T23:00:00Z");
  const auto& liquid = v.at("liquid_hours").as_array();
  ASSERT_EQ(liquid.size(), 2u);
  EXPECT_EQ(liquid[0].at("open").as_string(), "2026-12-07T14:30:00Z");
  EXPECT_EQ(liquid[0].at("close").as_string(), "2026-12-07T21:00:00Z");
  EXPECT_EQ(v.at("hours_raw").at("trading").as_string(), es_details().trading_hours);
  EXPECT_EQ(v.at("as_of").as_string(), "2026-12-07T00:00:00Z");
}

TEST(ContractJson, UnreadableHoursAreSaidNotHidden) {
  auto d = es_details();
  d.trading_hours = "20261207:9999-20261207:1600";
  const auto v = json::parse(contracts::details_json(d, kMonday)).as_object();
  EXPECT_FALSE(v.contains("trading_hours"));
  EXPECT_NE(v.at("hours_error").as_string().find("20261207:9999"), json::string::npos);
  d = es_details();
  d.time_zone_id = "Mars/Olympus";
  const auto w = json::parse(contracts::details_json(d, kMonday)).as_object();
  EXPECT_NE(w.at("hours_error").as_string().find("Mars/Olympus"), json::string::npos);
  EXPECT_TRUE(contracts::hours_unknown_at(d, kMonday));
}

TEST(ContractJson, StatusInASessionInTheBreakAndOutsideWhatIbGave) {
  const auto d = es_details();
  // Monday 15:00 UTC = 09:00 CST: open and liquid.
  auto s = json::parse(contracts::status_json(d, kMonday + 15 * 3600, kMonday)).as_object();
  EXPECT_EQ(s.at("status").as_string(), "open");
  EXPECT_TRUE(s.at("liquid").as_bool());
  EXPECT_EQ(s.at("session").at("open").as_string(), "2026-12-06T23:00:00Z");
  EXPECT_EQ(s.at("next_close").as_string(), "2026-12-07T22:00:00Z");
  EXPECT_EQ(s.at("next_open").as_string(), "2026-12-07T23:00:00Z");
  // Monday 22:30 UTC: the daily break (16:00-17:00 CST).
  s = json::parse(contracts::status_json(d, kMonday + 22 * 3600 + 1800, kMonday)).as_object();
  EXPECT_EQ(s.at("status").as_string(), "closed");
  EXPECT_FALSE(s.at("liquid").as_bool());
  EXPECT_TRUE(s.at("session").is_null());
  EXPECT_EQ(s.at("next_open").as_string(), "2026-12-07T23:00:00Z");
  EXPECT_EQ(s.at("next_close").as_string(), "2026-12-08T22:00:00Z");
  // Exactly at the close: closed; exactly at the open: open.
  s = json::parse(contracts::status_json(d, kMonday + 22 * 3600, kMonday)).as_object();
  EXPECT_EQ(s.at("status").as_string(), "closed");
  s = json::parse(contracts::status_json(d, kMonday + 23 * 3600, kMonday)).as_object();
  EXPECT_EQ(s.at("status").as_string(), "open");
  // A month later IB's strings say nothing.
  s = json::parse(contracts::status_json(d, kMonday + 30 * 86400, kMonday)).as_object();
  EXPECT_EQ(s.at("status").as_string(), "unknown");
  EXPECT_TRUE(contracts::hours_unknown_at(d, kMonday + 30 * 86400));
  EXPECT_FALSE(contracts::hours_unknown_at(d, kMonday + 3600));
}

TEST(ContractJson, SearchAndSamples) {
  tws::Contract q;
  q.symbol = "ES";
  q.sec_type = "FUT";
  const auto v = json::parse(contracts::search_json(q, {es_details()}, kMonday)).as_object();
  EXPECT_EQ(v.at("count").as_int64(), 1);
  EXPECT_EQ(v.at("query").at("sec_type").as_string(), "FUT");
  EXPECT_FALSE(v.at("query").as_object().contains("exchange"));
  EXPECT_EQ(v.at("contracts").at(0).at("contract_id").as_int64(), 551601777);
  tws::ContractDescription s;
  s.con_id = 265598;
  s.symbol = "AAPL";
  s.sec_type = "STK";
  s.primary_exchange = "NASDAQ";
  s.currency = "USD";
  s.derivative_sec_types = {"OPT", "WAR"};
  s.description = "APPLE INC";
  const auto w = json::parse(contracts::samples_json("appl", {s}, kMonday)).as_object();
  EXPECT_EQ(w.at("q").as_string(), "appl");
  const auto& c = w.at("contracts").at(0);
  EXPECT_EQ(c.at("contract_id").as_int64(), 265598);
  EXPECT_EQ(c.at("derivative_sec_types").as_array().size(), 2u);
  EXPECT_EQ(c.at("description").as_string(), "APPLE INC");
}

TEST(ContractCache, SavesAndLoadsWhatItShows) {
  const auto dir = std::filesystem::temp_directory_path() / "ibs-contract-cache-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto file = dir / "contracts.json";
  contracts::ContractCache a;
  tws::Contract q;
  q.symbol = "es";
  q.sec_type = "fut";
  a.put_search(contracts::ContractCache::search_key(q), {es_details()}, kMonday);
  ASSERT_FALSE(a.save(file));
  contracts::ContractCache b;
  EXPECT_FALSE(b.load(file));
  q.symbol = "ES";
  q.sec_type = "FUT";
  const auto s = b.search(contracts::ContractCache::search_key(q));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->fetched, kMonday);
  ASSERT_EQ(s->con_ids, std::vector<int>{551601777});
  const auto* d = b.details(551601777);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->details.trading_hours, es_details().trading_hours);
  EXPECT_EQ(d->details.contract.local_symbol, "ESZ6");
  EXPECT_EQ(d->details.min_tick, 0.25);
  // No temporary file is left behind.
  EXPECT_FALSE(std::filesystem::exists(dir / "contracts.json.tmp"));
  std::filesystem::remove_all(dir);
}

} // namespace

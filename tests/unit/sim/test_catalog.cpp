// The simulator's contract catalog (src/sim/contract_catalog.*): futures
// months listed by date and rolled at the third Friday, stable conIds,
// exact hours strings (a DST week included), matching by description and
// reqMatchingSymbols search; MarketHours (src/sim/market_hours.*): real
// mode's open seconds, overrides.
#include "hours/time_zone.hpp"
#include "sim/catalog_entries.hpp"
#include "sim/contract_catalog.hpp"
#include "sim/market_hours.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using sim::ContractCatalog;

/// Unix seconds of a UTC date and time.
std::int64_t utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0) {
  return hours::days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60;
}

std::vector<std::string> local_symbols(const ContractCatalog& cat, const tws::Contract& q,
                                       std::int64_t now) {
  std::vector<std::string> out;
  for (const auto* e : cat.match(q, now)) out.push_back(e->details.contract.local_symbol);
  return out;
}

tws::Contract es_query() {
  tws::Contract q;
  q.symbol = "ES";
  q.sec_type = "FUT";
  q.exchange = "CME";
  q.currency = "USD";
  return q;
}

const std::vector<std::string> kZ6toU7 = {"ESZ6", "ESH7", "ESM7", "ESU7"};
const std::vector<std::string> kH7toZ7 = {"ESH7", "ESM7", "ESU7", "ESZ7"};

TEST(ContractCatalog, ThirdFridays) {
  EXPECT_EQ(sim::catalog::yyyymmdd(sim::catalog::third_friday(2026, 12)), "20261218");
  EXPECT_EQ(sim::catalog::yyyymmdd(sim::catalog::third_friday(2027, 3)), "20270319");
  EXPECT_EQ(sim::catalog::yyyymmdd(sim::catalog::third_friday(2027, 6)), "20270618");
  EXPECT_EQ(sim::catalog::yyyymmdd(sim::catalog::third_friday(2026, 5)), "20260515");
}

TEST(ContractCatalog, FuturesMonthsRollAtTheEndOfTheThirdFriday) {
  const ContractCatalog cat;
  const auto q = es_query();
  EXPECT_EQ(local_symbols(cat, q, utc(2026, 12, 17, 12)), kZ6toU7);
  EXPECT_EQ(local_symbols(cat, q, utc(2026, 12, 18, 20)), kZ6toU7);
  // 23:30 Central on the last trading day: still listed (exchange time).
  EXPECT_EQ(local_symbols(cat, q, utc(2026, 12, 19, 5, 30)), kZ6toU7);
  EXPECT_EQ(local_symbols(cat, q, utc(2026, 12, 19, 6, 30)), kH7toZ7);
  EXPECT_EQ(local_symbols(cat, q, utc(2026, 12, 19, 12)), kH7toZ7);
  EXPECT_EQ(local_symbols(cat, q, utc(2027, 3, 19, 12)), kH7toZ7);
  EXPECT_EQ(local_symbols(cat, q, utc(2027, 3, 20, 12)),
            (std::vector<std::string>{"ESM7", "ESU7", "ESZ7", "ESH8"}));
  tws::Contract mnq = q;
  mnq.symbol = "MNQ";
  EXPECT_EQ(local_symbols(cat, mnq, utc(2026, 12, 4, 12)),
            (std::vector<std::string>{"MNQZ6", "MNQH7", "MNQM7", "MNQU7"}));
}

TEST(ContractCatalog, ConIdsAreStableAndExpiredMonthsStillAnswerByConId) {
  const ContractCatalog cat;
  const auto* es_z6 = cat.find(551601777);
  const auto* mnq_z6 = cat.find(711280073);
  ASSERT_NE(es_z6, nullptr);
  ASSERT_NE(mnq_z6, nullptr);
  EXPECT_EQ(es_z6->details.contract.local_symbol, "ESZ6");
  EXPECT_EQ(es_z6->details.contract.last_trade_date_or_contract_month, "20261218");
  EXPECT_EQ(es_z6->details.contract_month, "202612");
  EXPECT_EQ(mnq_z6->details.contract.local_symbol, "MNQZ6");
  EXPECT_EQ(sim::catalog::future_con_id("ES", 2027, 3), 901002703);
  EXPECT_EQ(sim::catalog::future_con_id("MNQ", 2027, 3), 902002703);
  EXPECT_EQ(cat.find(901002703)->details.contract.local_symbol, "ESH7");
  // After the expiry: no longer listed, still found by conId.
  tws::Contract by_id;
  by_id.con_id = 551601777;
  EXPECT_EQ(cat.match(by_id, utc(2027, 6, 1)).size(), 1u);
  EXPECT_FALSE(cat.listed(*es_z6, utc(2027, 6, 1)));
  tws::Contract by_local;
  by_local.local_symbol = "ESZ6";
  EXPECT_TRUE(cat.match(by_local, utc(2027, 6, 1)).empty());
  EXPECT_EQ(cat.match(by_local, utc(2026, 12, 4)).size(), 1u);
  // Stocks keep theirs; no futures conId can be one of theirs.
  for (int id : {265598, 272093, 4815747, 3691937, 756733, 76792991, 12087792})
    EXPECT_NE(cat.find(id), nullptr) << id;
  EXPECT_FALSE(cat.find(76792991)->market_data_permission);
  EXPECT_EQ(cat.find(756733)->details.stock_type, "ETF");
  EXPECT_EQ(cat.find(756733)->details.contract.primary_exchange, "ARCA");
}

TEST(ContractCatalog, MatchByDescription) {
  const ContractCatalog cat;
  const auto now = utc(2026, 12, 4, 15);
  tws::Contract q;
  q.symbol = "aapl";
  q.sec_type = "STK";
  q.exchange = "SMART";
  EXPECT_EQ(local_symbols(cat, q, now), (std::vector<std::string>{"AAPL"}));
  auto es = es_query();
  es.last_trade_date_or_contract_month = "202703";
  EXPECT_EQ(local_symbols(cat, es, now), (std::vector<std::string>{"ESH7"}));
  es.last_trade_date_or_contract_month = "20270319";
  EXPECT_EQ(local_symbols(cat, es, now), (std::vector<std::string>{"ESH7"}));
  es.last_trade_date_or_contract_month = "202701"; // not a listed month
  EXPECT_TRUE(cat.match(es, now).empty());
  tws::Contract local;
  local.local_symbol = "MNQH7";
  EXPECT_EQ(local_symbols(cat, local, now), (std::vector<std::string>{"MNQH7"}));
  tws::Contract none;
  none.symbol = "NOPE";
  EXPECT_TRUE(cat.match(none, now).empty());
  EXPECT_EQ(cat.resolve(es_query(), now), nullptr); // ambiguous
}

TEST(ContractCatalog, HoursStringsOfADstWeek) {
  const ContractCatalog cat;
  // Thursday 2026-10-29; US daylight time ends Sunday 2026-11-01.
  const auto now = utc(2026, 10, 29, 15);
  const auto aapl = cat.details_at(*cat.find(265598), now);
  EXPECT_EQ(aapl.time_zone_id, "US/Eastern");
  EXPECT_EQ(aapl.trading_hours,
            "20261029:0400-20261029:2000;20261030:0400-20261030:2000;20261031:CLOSED;"
            "20261101:CLOSED;20261102:0400-20261102:2000;20261103:0400-20261103:2000;"
            "20261104:0400-20261104:2000");
  EXPECT_EQ(aapl.liquid_hours,
            "20261029:0930-20261029:1600;20261030:0930-20261030:1600;20261031:CLOSED;"
            "20261101:CLOSED;20261102:0930-20261102:1600;20261103:0930-20261103:1600;"
            "20261104:0930-20261104:1600");
  const auto es = cat.details_at(*cat.find(551601777), now);
  EXPECT_EQ(es.time_zone_id, "US/Central");
  EXPECT_EQ(es.trading_hours,
            "20261028:1700-20261029:1600;20261029:1700-20261030:1600;20261031:CLOSED;"
            "20261101:CLOSED;20261101:1700-20261102:1600;20261102:1700-20261103:1600;"
            "20261103:1700-20261104:1600");
  EXPECT_EQ(es.liquid_hours,
            "20261029:0830-20261029:1500;20261030:0830-20261030:1500;20261031:CLOSED;"
            "20261101:CLOSED;20261102:0830-20261102:1500;20261103:0830-20261103:1500;"
            "20261104:0830-20261104:1500");
  const auto eur = cat.details_at(*cat.find(12087792), now);
  EXPECT_EQ(eur.trading_hours.substr(0, 56),
            "20261028:1715-20261029:1700;20261029:1715-20261030:1700;");
  EXPECT_EQ(eur.trading_hours, eur.liquid_hours);
  // The local day: 01:00 UTC Friday is Thursday in New York.
  EXPECT_EQ(ContractCatalog::local_day(*cat.find(265598), utc(2026, 10, 30, 1)),
            hours::days_from_civil(2026, 10, 29));
}

TEST(ContractCatalog, MatchingSymbols) {
  const ContractCatalog cat;
  auto symbols = [&](std::string_view pattern, std::size_t limit = 16) {
    std::vector<std::string> out;
    for (const auto& d : cat.matching_symbols(pattern, limit)) out.push_back(d.symbol);
    return out;
  };
  EXPECT_EQ(symbols("AAPL"), (std::vector<std::string>{"AAPL"}));
  EXPECT_EQ(symbols("apple"), (std::vector<std::string>{"AAPL"}));
  // Stocks first (symbol matches, then names), then futures roots.
  EXPECT_EQ(symbols("mi"), (std::vector<std::string>{"MSFT", "ES", "MNQ"}));
  EXPECT_EQ(symbols("s"), (std::vector<std::string>{"SPY", "ES"}));
  // SPY by "ETF" in its name, ES by symbol, MNQ by "E-Mini", then EUR.
  EXPECT_EQ(symbols("e"), (std::vector<std::string>{"SPY", "ES", "MNQ", "EUR"}));
  EXPECT_EQ(symbols("a", 2), (std::vector<std::string>{"AAPL", "AMZN"}));
  EXPECT_TRUE(symbols("").empty());
  EXPECT_TRUE(symbols("zzz").empty());
  const auto aapl = cat.matching_symbols("AAPL").at(0);
  EXPECT_EQ(aapl.con_id, 265598);
  EXPECT_EQ(aapl.sec_type, "STK");
  EXPECT_EQ(aapl.primary_exchange, "NASDAQ");
  EXPECT_EQ(aapl.derivative_sec_types, (std::vector<std::string>{"OPT", "WAR"}));
  EXPECT_EQ(aapl.description, "APPLE INC");
  const auto es = cat.matching_symbols("ES").at(0);
  EXPECT_EQ(es.sec_type, "IND");
  EXPECT_EQ(es.derivative_sec_types.at(0), "FUT");
}

TEST(MarketHours, RealModeFollowsTheTradingHoursAcrossTheDstChange) {
  const ContractCatalog cat;
  sim::MarketHours always(cat, sim::HoursMode::always);
  sim::MarketHours real(cat, sim::HoursMode::real);
  const auto& es = *cat.find(551601777);
  const auto& aapl = *cat.find(265598);
  // Saturday: stocks and futures closed.
  EXPECT_TRUE(always.open_at(aapl, utc(2026, 10, 31, 15)));
  EXPECT_FALSE(real.open_at(aapl, utc(2026, 10, 31, 15)));
  EXPECT_FALSE(real.open_at(es, utc(2026, 10, 31, 15)));
  // Sunday 2026-11-01, after the change: 17:00 CST is 23:00 UTC.
  EXPECT_FALSE(real.open_at(es, utc(2026, 11, 1, 22, 30)));
  EXPECT_TRUE(real.open_at(es, utc(2026, 11, 1, 23, 0)));
  // Thursday before the change: 16:00 CDT (21:00 UTC) closes, 17:00 reopens.
  EXPECT_TRUE(real.open_at(es, utc(2026, 10, 29, 20, 59)));
  EXPECT_FALSE(real.open_at(es, utc(2026, 10, 29, 21, 0)));
  EXPECT_TRUE(real.open_at(es, utc(2026, 10, 29, 22, 0)));
  // Stocks: 04:00-20:00 New York.
  EXPECT_FALSE(real.open_at(aapl, utc(2026, 11, 2, 8, 59)));
  EXPECT_TRUE(real.open_at(aapl, utc(2026, 11, 2, 9, 0)));
  EXPECT_TRUE(real.open_at(aapl, utc(2026, 11, 3, 0, 59)));
  EXPECT_FALSE(real.open_at(aapl, utc(2026, 11, 3, 1, 0)));
}

TEST(MarketHours, OverridesAndReset) {
  const ContractCatalog cat;
  sim::MarketHours real(cat, sim::HoursMode::real);
  const auto& aapl = *cat.find(265598);
  const auto now = utc(2026, 12, 7, 15); // Monday 10:00 New York
  EXPECT_TRUE(real.open_at(aapl, now));
  EXPECT_NE(real.set_override(aapl, "garbage", ""), "");
  EXPECT_EQ(real.set_override(aapl, "20261207:0900-20261207:1000;20261207:1001-20261207:1100", ""),
            "");
  EXPECT_TRUE(real.open_at(aapl, now - 1));
  EXPECT_FALSE(real.open_at(aapl, now));
  EXPECT_FALSE(real.open_at(aapl, now + 59));
  EXPECT_TRUE(real.open_at(aapl, now + 60));
  const auto d = real.details_at(aapl, now);
  EXPECT_EQ(d.trading_hours, "20261207:0900-20261207:1000;20261207:1001-20261207:1100");
  EXPECT_EQ(d.liquid_hours, d.trading_hours);
  EXPECT_TRUE(real.reset(265598));
  EXPECT_FALSE(real.reset(265598));
  EXPECT_TRUE(real.open_at(aapl, now));
  EXPECT_EQ(real.details_at(aapl, now).trading_hours.substr(0, 27), "20261207:0400-20261207:2000");
}

} // namespace

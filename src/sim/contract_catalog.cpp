#include "sim/contract_catalog.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace sim {
namespace {

constexpr std::int64_t kSecondsPerDay = 86400;

// Order types and exchanges as TWS lists them for each kind of instrument
// (abridged from real contract details; clients only split them on commas).
constexpr const char* kStockOrderTypes =
    "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AON,AVGCOST,BASKET,BENCHPX,CASHQTY,COND,CONDORDER,"
    "DARKONLY,DARKPOLL,DAY,DEACT,DEACTDIS,DEACTEOD,DIS,DUR,GAT,GTC,GTD,GTT,HID,IBKRATS,ICE,IMB,"
    "IOC,LIT,LMT,LOC,MIDPX,MIT,MKT,MOC,MTL,NGCOMB,NODARK,NONALGO,OCA,OPG,OPGREROUT,PEGBENCH,"
    "PEGMID,POSTATS,POSTONLY,PREOPGRTH,PRICECHK,REL,REL2MID,RELPCTOFS,RPI,RTH,SCALE,SCALEODD,"
    "SCALERST,SIZECHK,SMARTSTG,SNAPMID,SNAPMKT,SNAPREL,STP,STPLMT,SWEEP,TRAIL,TRAILLIT,"
    "TRAILLMT,TRAILMIT,WHATIF";
constexpr const char* kFutureOrderTypes =
    "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AVGCOST,BASKET,BENCHPX,COND,CONDORDER,DAY,DEACT,"
    "DEACTDIS,DEACTEOD,GAT,GTC,GTD,GTT,HID,ICE,IOC,LIT,LMT,LTH,MIT,MKT,MTL,NGCOMB,NONALGO,OCA,"
    "PEGBENCH,SCALE,SCALERST,SNAPMID,SNAPMKT,SNAPREL,STP,STPLMT,TRAIL,TRAILLIT,TRAILLMT,"
    "TRAILMIT,WHATIF";
constexpr const char* kForexOrderTypes =
    "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AVGCOST,BASKET,CASHQTY,COND,CONDORDER,DAY,DEACT,"
    "DEACTDIS,DEACTEOD,GAT,GTC,GTD,GTT,IOC,LIT,LMT,MIT,MKT,NONALGO,OCA,REL,RELPCTOFS,SCALE,"
    "SCALERST,STP,STPLMT,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,WHATIF";
constexpr const char* kStockExchanges =
    "SMART,AMEX,NYSE,CBOE,PHLX,ISE,CHX,ARCA,NASDAQ,DRCTEDGE,BEX,BATS,EDGEA,BYX,IEX,EDGX,"
    "FOXRIVER,PEARL,NYSENAT,LTSE,MEMX,IBEOS,OVERNIGHT,TPLUS0,PSX";

/// marketRuleIds has one entry per valid exchange (tws-protocol.md §4.4).
std::string rule_ids_for(const std::string& exchanges, const std::string& rule) {
  std::string out = rule;
  for (char ch : exchanges)
    if (ch == ',') out += "," + rule;
  return out;
}

/// YYYYMMDD of a day number (days since 1970-01-01), civil calendar;
/// integer-only (Howard Hinnant's civil_from_days).
std::string yyyymmdd(std::int64_t days) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld%02lld%02lld", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d));
  return buf;
}

/// 0 = Sunday ... 6 = Saturday (1970-01-01 was a Thursday).
int weekday(std::int64_t days) { return static_cast<int>(((days % 7) + 7 + 4) % 7); }

enum class Session { stock_full, stock_regular, future_full, future_regular, forex };

/// TWS's hours string ("20260406:0400-20260406:2000;20260404:CLOSED;...")
/// for the 7 days starting at `first_day`.
std::string hours(std::int64_t first_day, Session kind) {
  std::string out;
  for (std::int64_t day = first_day; day < first_day + 7; ++day) {
    if (!out.empty()) out += ';';
    const std::string d = yyyymmdd(day);
    const int wd = weekday(day);
    if (wd == 0 || wd == 6) {
      out += d + ":CLOSED";
      continue;
    }
    // Overnight sessions open the evening before (Sunday evening for Monday).
    const std::string prev = yyyymmdd(day - 1);
    switch (kind) {
    case Session::stock_full: out += d + ":0400-" + d + ":2000"; break;
    case Session::stock_regular: out += d + ":0930-" + d + ":1600"; break;
    case Session::future_full: out += prev + ":1700-" + d + ":1600"; break;
    case Session::future_regular: out += d + ":0830-" + d + ":1500"; break;
    case Session::forex: out += prev + ":1715-" + d + ":1700"; break;
    }
  }
  return out;
}

CatalogEntry stock(std::int64_t day, int con_id, const char* symbol, const char* long_name,
                   const char* industry, const char* category, const char* subcategory,
                   const char* isin, std::int64_t start_ticks) {
  CatalogEntry e;
  auto& d = e.details;
  auto& c = d.contract;
  c.con_id = con_id;
  c.symbol = symbol;
  c.sec_type = "STK";
  c.exchange = "SMART";
  c.primary_exchange = "NASDAQ";
  c.currency = "USD";
  c.local_symbol = symbol;
  c.trading_class = "NMS";
  d.market_name = "NMS";
  d.min_tick = 0.01;
  d.order_types = kStockOrderTypes;
  d.valid_exchanges = kStockExchanges;
  d.price_magnifier = 1;
  d.long_name = long_name;
  d.industry = industry;
  d.category = category;
  d.subcategory = subcategory;
  d.time_zone_id = "US/Eastern";
  d.trading_hours = hours(day, Session::stock_full);
  d.liquid_hours = hours(day, Session::stock_regular);
  d.sec_ids = {{"ISIN", isin}};
  d.agg_group = 1;
  d.market_rule_ids = rule_ids_for(d.valid_exchanges, "26");
  d.stock_type = "COMMON";
  d.min_size = 0.0001;
  d.size_increment = 0.0001;
  d.suggested_size_increment = 100;
  e.model.asset = AssetClass::stock;
  e.model.ticks_per_unit = 100;
  e.model.start_ticks = start_ticks;
  // Roughly the share of lit volume of each venue.
  e.model.venues = {"NASDAQ", "NASDAQ", "NASDAQ", "ARCA", "ARCA",
                    "NYSE",   "IEX",    "EDGX",   "BATS", "BATS"};
  e.farm = "usfarm";
  return e;
}

CatalogEntry future(std::int64_t day, int con_id, const char* symbol, const char* local_symbol,
                    const char* multiplier, const char* long_name, int under_con_id,
                    std::int64_t start_ticks) {
  CatalogEntry e;
  auto& d = e.details;
  auto& c = d.contract;
  c.con_id = con_id;
  c.symbol = symbol;
  c.sec_type = "FUT";
  c.last_trade_date_or_contract_month = "20261218";
  c.multiplier = multiplier;
  c.exchange = "CME";
  c.currency = "USD";
  c.local_symbol = local_symbol;
  c.trading_class = symbol;
  d.last_trade_date = "20261218";
  d.market_name = symbol;
  d.min_tick = 0.25;
  d.order_types = kFutureOrderTypes;
  d.valid_exchanges = "CME,QBALGO";
  d.price_magnifier = 1;
  d.under_con_id = under_con_id;
  d.long_name = long_name;
  d.contract_month = "202612";
  d.time_zone_id = "US/Central";
  d.trading_hours = hours(day, Session::future_full);
  d.liquid_hours = hours(day, Session::future_regular);
  d.agg_group = 2147483647; // TWS sends UNSET here for futures
  d.under_symbol = symbol;
  d.under_sec_type = "IND";
  d.market_rule_ids = rule_ids_for(d.valid_exchanges, "67");
  d.real_expiration_date = "20261218";
  d.min_size = 1;
  d.size_increment = 1;
  d.suggested_size_increment = 1;
  e.model.asset = AssetClass::future;
  e.model.ticks_per_unit = 4;
  e.model.start_ticks = start_ticks;
  e.model.venues = {"CME"};
  e.farm = "usfuture";
  return e;
}

CatalogEntry eur_usd(std::int64_t day) {
  CatalogEntry e;
  auto& d = e.details;
  auto& c = d.contract;
  c.con_id = 12087792;
  c.symbol = "EUR";
  c.sec_type = "CASH";
  c.exchange = "IDEALPRO";
  c.currency = "USD";
  c.local_symbol = "EUR.USD";
  c.trading_class = "EUR.USD";
  d.market_name = "EUR.USD";
  d.min_tick = 0.00005;
  d.order_types = kForexOrderTypes;
  d.valid_exchanges = "IDEALPRO";
  d.price_magnifier = 1;
  d.long_name = "European Monetary Union Euro";
  d.time_zone_id = "US/Eastern";
  d.trading_hours = hours(day, Session::forex);
  d.liquid_hours = hours(day, Session::forex);
  d.agg_group = 4;
  d.market_rule_ids = "239";
  d.min_size = 1;
  d.size_increment = 1;
  d.suggested_size_increment = 1;
  e.model.asset = AssetClass::forex;
  e.model.ticks_per_unit = 20000;
  e.model.start_ticks = 21600; // 1.08000
  e.model.venues = {"IDEALPRO"};
  e.farm = "cashfarm";
  return e;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return out;
}

/// An empty query field matches anything; a set one must equal (case-blind).
bool field_matches(const std::string& query, const std::string& value) {
  return query.empty() || upper(query) == upper(value);
}

bool matches(const tws::Contract& q, const CatalogEntry& e) {
  const auto& c = e.details.contract;
  if (q.symbol.empty() && q.local_symbol.empty()) return false;
  if (!field_matches(q.symbol, c.symbol) || !field_matches(q.sec_type, c.sec_type) ||
      !field_matches(q.currency, c.currency) || !field_matches(q.local_symbol, c.local_symbol) ||
      !field_matches(q.trading_class, c.trading_class))
    return false;
  // Any valid exchange routes (SMART, NASDAQ, ... for a stock).
  if (!q.exchange.empty()) {
    const std::string list = "," + e.details.valid_exchanges + ",";
    if (list.find("," + upper(q.exchange) + ",") == std::string::npos) return false;
  }
  // "202612" or "20261218" both name the December 2026 expiry.
  const auto& expiry = q.last_trade_date_or_contract_month;
  if (!expiry.empty() && c.last_trade_date_or_contract_month.rfind(expiry, 0) != 0) return false;
  return true;
}

} // namespace

ContractCatalog::ContractCatalog(std::int64_t today_unix) {
  const std::int64_t day =
      today_unix >= 0 ? today_unix / kSecondsPerDay : (today_unix + 1) / kSecondsPerDay - 1;
  entries_.push_back(stock(day, 265598, "AAPL", "APPLE INC", "Technology", "Computers", "Computers",
                           "US0378331005", 19000));
  entries_.push_back(
      future(day, 711280073, "MNQ", "MNQZ6", "2", "Micro E-Mini Nasdaq-100", 362687422, 84000));
  entries_.push_back(future(day, 551601777, "ES", "ESZ6", "50", "E-mini S&P 500", 11004968, 24000));
  entries_.push_back(eur_usd(day));
  CatalogEntry tsla = stock(day, 76792991, "TSLA", "TESLA INC", "Consumer, Cyclical",
                            "Auto Manufacturers", "Auto-Cars/Light Trucks", "US88160R1014", 25000);
  tsla.market_data_permission = false;
  entries_.push_back(std::move(tsla));
}

const CatalogEntry* ContractCatalog::find(int con_id) const {
  for (const auto& e : entries_)
    if (e.con_id() == con_id) return &e;
  return nullptr;
}

std::vector<const CatalogEntry*> ContractCatalog::match(const tws::Contract& query) const {
  std::vector<const CatalogEntry*> out;
  if (query.con_id != 0) {
    if (const auto* e = find(query.con_id)) out.push_back(e);
    return out;
  }
  for (const auto& e : entries_)
    if (matches(query, e)) out.push_back(&e);
  return out;
}

const CatalogEntry* ContractCatalog::resolve(const tws::Contract& query) const {
  auto found = match(query);
  return found.size() == 1 ? found.front() : nullptr;
}

} // namespace sim

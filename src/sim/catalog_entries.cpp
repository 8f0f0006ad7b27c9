// The simulator's instruments as TWS describes them (abridged from real
// contract details), the quarterly futures calendar and the hours strings.
// Declared in catalog_entries.hpp.
#include "sim/catalog_entries.hpp"

#include "hours/time_zone.hpp"

#include <array>
#include <cstdio>

namespace sim::catalog {
namespace {

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

struct StockSpec {
  int con_id;
  const char* symbol;
  const char* long_name;
  const char* industry;
  const char* category;
  const char* subcategory;
  const char* isin;
  std::int64_t start_ticks;
  bool etf = false;
};

CatalogEntry stock(const StockSpec& s) {
  CatalogEntry e;
  auto& d = e.details;
  auto& c = d.contract;
  c.con_id = s.con_id;
  c.symbol = s.symbol;
  c.sec_type = "STK";
  c.exchange = "SMART";
  c.primary_exchange = s.etf ? "ARCA" : "NASDAQ";
  c.currency = "USD";
  c.local_symbol = s.symbol;
  c.trading_class = s.etf ? s.symbol : "NMS";
  d.market_name = c.trading_class;
  d.min_tick = 0.01;
  d.order_types = kStockOrderTypes;
  d.valid_exchanges = kStockExchanges;
  d.price_magnifier = 1;
  d.long_name = s.long_name;
  d.industry = s.industry;
  d.category = s.category;
  d.subcategory = s.subcategory;
  d.time_zone_id = "US/Eastern";
  d.sec_ids = {{"ISIN", s.isin}};
  d.agg_group = 1;
  d.market_rule_ids = rule_ids_for(d.valid_exchanges, "26");
  d.stock_type = s.etf ? "ETF" : "COMMON";
  d.min_size = 0.0001;
  d.size_increment = 0.0001;
  d.suggested_size_increment = 100;
  e.model.asset = AssetClass::stock;
  e.model.ticks_per_unit = 100;
  e.model.start_ticks = s.start_ticks;
  // Roughly the share of lit volume of each venue.
  if (s.etf) e.model.venues = {"ARCA", "ARCA", "ARCA", "NASDAQ", "NYSE", "IEX", "EDGX", "BATS"};
  else {
    e.model.venues = {"NASDAQ", "NASDAQ", "NASDAQ", "ARCA", "ARCA",
                      "NYSE",   "IEX",    "EDGX",   "BATS", "BATS"};
  }
  e.farm = "usfarm";
  e.sample = {c.con_id, c.symbol,       "STK",       c.primary_exchange,
              "USD",    {"OPT", "WAR"}, s.long_name, ""};
  return e;
}

struct FutureRoot {
  int index; // in the conId formula
  const char* symbol;
  const char* multiplier;
  const char* long_name;
  int under_con_id;
  std::int64_t dec_2026_ticks; // first bid of the December 2026 month
  std::int64_t ticks_per_quarter;
  int dec_2026_con_id;
};

constexpr std::array<FutureRoot, 2> kFutureRoots = {{
    {1, "ES", "50", "E-mini S&P 500", 11004968, 24000, 40, 551601777},
    {2, "MNQ", "2", "Micro E-Mini Nasdaq-100", 362687422, 84000, 160, 711280073},
}};

constexpr std::array<char, 4> kQuarterCodes = {'H', 'M', 'U', 'Z'}; // Mar Jun Sep Dec

CatalogEntry future(const FutureRoot& root, int year, unsigned month) {
  CatalogEntry e;
  auto& d = e.details;
  auto& c = d.contract;
  const std::int64_t last_day = third_friday(year, month);
  const std::string ltd = yyyymmdd(last_day);
  c.con_id = future_con_id(root.symbol, year, month);
  c.symbol = root.symbol;
  c.sec_type = "FUT";
  c.last_trade_date_or_contract_month = ltd;
  c.multiplier = root.multiplier;
  c.exchange = "CME";
  c.currency = "USD";
  c.local_symbol =
      std::string(root.symbol) + kQuarterCodes[month / 3 - 1] + static_cast<char>('0' + year % 10);
  c.trading_class = root.symbol;
  d.last_trade_date = ltd;
  d.market_name = root.symbol;
  d.min_tick = 0.25;
  d.order_types = kFutureOrderTypes;
  d.valid_exchanges = "CME,QBALGO";
  d.price_magnifier = 1;
  d.under_con_id = root.under_con_id;
  d.long_name = root.long_name;
  d.contract_month = ltd.substr(0, 6);
  d.time_zone_id = "US/Central";
  d.agg_group = 2147483647; // TWS sends UNSET here for futures
  d.under_symbol = root.symbol;
  d.under_sec_type = "IND";
  d.market_rule_ids = rule_ids_for(d.valid_exchanges, "67");
  d.real_expiration_date = ltd;
  d.min_size = 1;
  d.size_increment = 1;
  d.suggested_size_increment = 1;
  e.model.asset = AssetClass::future;
  e.model.ticks_per_unit = 4;
  // Later months a little higher (carry), earlier ones lower.
  const int quarters = ((year - 2026) * 12 + static_cast<int>(month) - 12) / 3;
  e.model.start_ticks = root.dec_2026_ticks + quarters * root.ticks_per_quarter;
  e.model.venues = {"CME"};
  e.farm = "usfuture";
  e.last_trading_day = last_day;
  return e;
}

/// The root's reqMatchingSymbols sample: its index, with FUT (and FOP).
tws::ContractDescription future_root_sample(const FutureRoot& root) {
  return {root.under_con_id, root.symbol, "IND", "CME", "USD", {"FUT", "FOP"}, root.long_name, ""};
}

CatalogEntry eur_usd() {
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
  e.sample = {c.con_id, "EUR", "CASH", "IDEALPRO", "USD", {}, d.long_name, ""};
  return e;
}

} // namespace

std::string yyyymmdd(std::int64_t day) {
  const auto c = hours::civil_from_days(day);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02u", c.y, c.m, c.d);
  return buf;
}

int weekday(std::int64_t day) { return static_cast<int>(((day % 7) + 7 + 4) % 7); }

std::int64_t third_friday(int year, unsigned month) {
  const std::int64_t first = hours::days_from_civil(year, month, 1);
  return first + (5 - weekday(first) + 7) % 7 + 14;
}

std::vector<std::int64_t> next_quarterly_expiries(std::int64_t day, int n) {
  std::vector<std::int64_t> out;
  const auto c = hours::civil_from_days(day);
  int year = c.y;
  unsigned month = (c.m + 2) / 3 * 3; // this quarter's month
  while (static_cast<int>(out.size()) < n) {
    const std::int64_t last = third_friday(year, month);
    if (last >= day) out.push_back(last);
    month += 3;
    if (month > 12) {
      month = 3;
      ++year;
    }
  }
  return out;
}

int future_con_id(std::string_view root, int year, unsigned month) {
  for (const auto& r : kFutureRoots) {
    if (root != r.symbol) continue;
    if (year == 2026 && month == 12) return r.dec_2026_con_id;
    return 900000000 + r.index * 1000000 + (year - 2000) * 100 + static_cast<int>(month);
  }
  return 0;
}

std::string hours_text(AssetClass asset, HoursKind kind, std::int64_t first_day) {
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
    const bool trading = kind == HoursKind::trading;
    switch (asset) {
    case AssetClass::stock:
      out += trading ? d + ":0400-" + d + ":2000" : d + ":0930-" + d + ":1600";
      break;
    case AssetClass::future:
      out += trading ? prev + ":1700-" + d + ":1600" : d + ":0830-" + d + ":1500";
      break;
    case AssetClass::forex: out += prev + ":1715-" + d + ":1700"; break;
    }
  }
  return out;
}

std::vector<CatalogEntry> build_entries() {
  std::vector<CatalogEntry> out;
  const std::array<StockSpec, 6> stocks = {{
      {265598, "AAPL", "APPLE INC", "Technology", "Computers", "Computers", "US0378331005", 19000},
      {272093, "MSFT", "MICROSOFT CORP", "Technology", "Software", "Software", "US5949181045",
       48000},
      {4815747, "NVDA", "NVIDIA CORP", "Technology", "Semiconductors",
       "Electronic Components-Semicon", "US67066G1040", 18000},
      {3691937, "AMZN", "AMAZON.COM INC", "Communications", "Internet", "E-Commerce/Products",
       "US0231351067", 23000},
      {756733, "SPY", "SPDR S&P 500 ETF TRUST", "Funds", "Equity Fund", "Growth-Large Cap",
       "US78462F1030", 68000, true},
      {76792991, "TSLA", "TESLA INC", "Consumer, Cyclical", "Auto Manufacturers",
       "Auto-Cars/Light Trucks", "US88160R1014", 25000},
  }};
  for (const auto& s : stocks) {
    out.push_back(stock(s));
    if (s.con_id == 76792991) out.back().market_data_permission = false;
  }
  for (const auto& root : kFutureRoots) {
    for (int year = ContractCatalog::kFirstFutureYear; year <= ContractCatalog::kLastFutureYear;
         ++year) {
      for (unsigned month = 3; month <= 12; month += 3) {
        out.push_back(future(root, year, month));
        // One sample per root, on its December 2026 month.
        if (year == 2026 && month == 12) out.back().sample = future_root_sample(root);
      }
    }
  }
  out.push_back(eur_usd());
  return out;
}

} // namespace sim::catalog

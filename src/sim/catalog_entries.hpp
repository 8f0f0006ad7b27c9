// Private to src/sim: the catalog's instruments as built once (without the
// date's hours strings), the quarterly futures calendar and the hours
// strings of each kind of instrument (used by contract_catalog.cpp).
//
// Thread-safety: pure functions.
#pragma once

#include "sim/contract_catalog.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sim::catalog {

/// Every entry: the stocks, ES and MNQ for each quarterly month of
/// ContractCatalog::kFirstFutureYear..kLastFutureYear, EUR.USD.
std::vector<CatalogEntry> build_entries();

/// The third Friday of a month (days since 1970-01-01).
std::int64_t third_friday(int year, unsigned month);
/// The last trading days of the first `n` quarterly months (Mar, Jun, Sep,
/// Dec) whose last trading day is on or after `day`, in expiry order.
std::vector<std::int64_t> next_quarterly_expiries(std::int64_t day, int n);
/// A futures month's conId: ES and MNQ December 2026 keep their historical
/// conIds (551601777, 711280073); the others are 900,000,000 + 1,000,000 x
/// root + 100 x (year - 2000) + month, clear of every stock conId.
int future_con_id(std::string_view root, int year, unsigned month);

/// YYYYMMDD of a day number.
std::string yyyymmdd(std::int64_t day);
/// 0 = Sunday ... 6 = Saturday.
int weekday(std::int64_t day);

/// TWS's 970+ hours string for the 7 days from `first_day`, local time:
/// stocks 0400-2000 (trading) / 0930-1600 (liquid) on weekdays; futures
/// from 1700 the day before to 1600 (trading) / 0830-1500 (liquid), the
/// Sunday-evening open being Monday's entry; forex 1715 the day before to
/// 1700 (both). Saturdays and Sundays are CLOSED.
std::string hours_text(AssetClass asset, HoursKind kind, std::int64_t first_day);

} // namespace sim::catalog

// MarketHours: the hours strings of contract details with admin overrides,
// and real mode's open/closed test per Unix second (see market_hours.hpp).
#include "sim/market_hours.hpp"

#include "hours/time_zone.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace sim {
namespace {
/// Parsed schedules kept (per contract and day); more are dropped at once.
constexpr std::size_t kMaxSchedules = 256;
} // namespace

tws::ContractDetails MarketHours::details_at(const CatalogEntry& entry, std::int64_t now) const {
  tws::ContractDetails d = catalog_.details_at(entry, now);
  if (auto it = overrides_.find(entry.con_id()); it != overrides_.end()) {
    d.trading_hours = it->second.trading_hours;
    d.liquid_hours = it->second.liquid_hours;
  } else if (mode_ == HoursMode::always) {
    // The hours say what the simulator does: it trades around the clock
    // (the liquid hours stay the exchange's regular ones).
    d.trading_hours = around_the_clock(ContractCatalog::local_day(entry, now));
  }
  return d;
}

std::string MarketHours::around_the_clock(std::int64_t first_day) {
  const auto ymd = [](std::int64_t day) {
    const auto c = hours::civil_from_days(day);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d%02u%02u", c.y, c.m, c.d);
    return std::string(buf);
  };
  std::string out;
  for (std::int64_t day = first_day; day < first_day + 7; ++day) {
    if (!out.empty()) out += ';';
    out += ymd(day) + ":0000-" + ymd(day + 1) + ":0000";
  }
  return out;
}

bool MarketHours::open_at(const CatalogEntry& entry, std::int64_t t) {
  if (mode_ == HoursMode::always) return true;
  auto& span = spans_[entry.con_id()];
  if (t < span.from || t >= span.to) span = span_at(entry, t);
  return span.open;
}

MarketHours::Span MarketHours::span_at(const CatalogEntry& entry, std::int64_t t) {
  const hours::Schedule* schedule = nullptr;
  std::int64_t clip_from = std::numeric_limits<std::int64_t>::min();
  std::int64_t clip_to = std::numeric_limits<std::int64_t>::max();
  if (auto o = overrides_.find(entry.con_id()); o != overrides_.end()) {
    schedule = &o->second.schedule;
  } else {
    // The hours the details report for t's local day: valid within that day.
    const auto zone = hours::TimeZone::load(entry.details.time_zone_id);
    const std::int64_t day = ContractCatalog::local_day(entry, t);
    clip_from = zone->to_utc(day * 86400);
    clip_to = zone->to_utc((day + 1) * 86400);
    const auto key = std::make_pair(entry.con_id(), day);
    auto it = schedules_.find(key);
    if (it == schedules_.end()) {
      if (schedules_.size() >= kMaxSchedules) schedules_.clear();
      it =
          schedules_
              .emplace(key, hours::parse_hours(
                                ContractCatalog::hours_text(entry, HoursKind::trading, day), *zone))
              .first;
    }
    schedule = &it->second;
  }
  const hours::Status st = hours::status_at(*schedule, t);
  Span span{t, t + 1, true};
  if (!st.known) {
    // Before or after the days the string covers: unknown, ticks flow.
    if (t < schedule->covered_from) span.to = schedule->covered_from;
    else span.to = std::numeric_limits<std::int64_t>::max();
  } else if (st.open && st.session) {
    span = {st.session->open, st.session->close, true};
  } else {
    span = {t, st.next_open.value_or(schedule->covered_to), false};
    if (!st.next_open) span.to = std::min(span.to, schedule->covered_to);
  }
  span.from = std::max(span.from, clip_from);
  span.to = std::min(span.to, clip_to);
  if (span.to <= t) span.to = t + 1;
  if (span.from > t) span.from = t;
  return span;
}

std::string MarketHours::set_override(const CatalogEntry& entry, std::string trading,
                                      std::string liquid) {
  if (liquid.empty()) liquid = trading;
  Override o;
  try {
    const auto zone = hours::TimeZone::load(entry.details.time_zone_id);
    o.schedule = hours::parse_hours(trading, *zone);
    hours::parse_hours(liquid, *zone);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  if (o.schedule.empty()) return "no trading hours given";
  o.trading_hours = std::move(trading);
  o.liquid_hours = std::move(liquid);
  overrides_[entry.con_id()] = std::move(o);
  spans_.erase(entry.con_id());
  return "";
}

bool MarketHours::reset(int con_id) {
  spans_.erase(con_id);
  return overrides_.erase(con_id) > 0;
}

} // namespace sim

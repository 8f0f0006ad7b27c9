#include "contracts/contract_json.hpp"

#include "hours/trading_hours.hpp"

#include <cstdio>
#include <memory>
#include <sstream>

namespace contracts {
namespace {

using stream::JsonWriter;

std::string two(unsigned v) {
  char buf[4];
  std::snprintf(buf, sizeof buf, "%02u", v % 100);
  return buf;
}

std::string civil_text(std::int64_t seconds) {
  const std::int64_t days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
  const auto rem = static_cast<unsigned>(seconds - days * 86400);
  const auto date = hours::civil_from_days(days);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02u:%02u:%02u", date.y, date.m, date.d,
                rem / 3600, rem / 60 % 60, rem % 60);
  return buf;
}

struct ParsedHours {
  std::shared_ptr<const hours::TimeZone> zone;
  hours::Schedule trading;
  hours::Schedule liquid;
  std::string error; // set: the zone or the strings could not be read
};

ParsedHours parse(const tws::ContractDetails& d) {
  ParsedHours p;
  if (d.time_zone_id.empty() || d.trading_hours.empty()) {
    p.error = "TWS gave no trading hours for this contract";
    return p;
  }
  try {
    p.zone = hours::TimeZone::load(d.time_zone_id);
    p.trading = hours::parse_hours(d.trading_hours, *p.zone);
    p.liquid = hours::parse_hours(d.liquid_hours, *p.zone);
  } catch (const std::exception& e) {
    p.error = e.what();
    p.zone.reset();
  }
  return p;
}

void write_session(JsonWriter& w, const hours::Session& s, const hours::TimeZone& zone) {
  w.begin_object();
  w.member("open", iso_utc(s.open));
  w.member("close", iso_utc(s.close));
  w.member("open_local", iso_local(s.open, zone.offset_at(s.open)));
  w.member("close_local", iso_local(s.close, zone.offset_at(s.close)));
  w.end_object();
}

void write_sessions(JsonWriter& w, const char* name, const hours::Schedule& s,
                    const hours::TimeZone& zone) {
  w.key(name).begin_array();
  for (const auto& session : s.sessions) write_session(w, session, zone);
  w.end_array();
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

} // namespace

std::string iso_utc(std::int64_t unix_seconds) { return civil_text(unix_seconds) + "Z"; }

std::string iso_local(std::int64_t unix_seconds, int offset_seconds) {
  const char sign = offset_seconds < 0 ? '-' : '+';
  const unsigned abs = static_cast<unsigned>(offset_seconds < 0 ? -offset_seconds : offset_seconds);
  return civil_text(unix_seconds + offset_seconds) + sign + two(abs / 3600) + ":" +
         two(abs / 60 % 60);
}

void write_contract_summary(JsonWriter& w, const tws::ContractDetails& d) {
  const auto& c = d.contract;
  w.begin_object();
  w.member("contract_id", c.con_id);
  w.member("symbol", c.symbol);
  w.member("local_symbol", c.local_symbol);
  w.member("sec_type", c.sec_type);
  w.member("exchange", c.exchange);
  w.member("primary_exchange", c.primary_exchange);
  w.member("currency", c.currency);
  w.member("expiry", c.last_trade_date_or_contract_month);
  w.member("multiplier", c.multiplier);
  w.member("min_tick", d.min_tick);
  w.member("trading_class", c.trading_class);
  w.member("long_name", d.long_name);
  w.member("time_zone", d.time_zone_id);
  w.end_object();
}

std::string candidates_json(const std::vector<tws::ContractDetails>& list) {
  std::string out;
  {
    JsonWriter w(out);
    w.begin_array();
    for (const auto& d : list) write_contract_summary(w, d);
    w.end_array();
  }
  return out;
}

std::string search_json(const tws::Contract& q, const std::vector<tws::ContractDetails>& list,
                        std::int64_t as_of) {
  std::string out;
  {
    JsonWriter w(out);
    w.begin_object();
    w.key("query").begin_object();
    w.member("symbol", q.symbol);
    if (!q.sec_type.empty()) w.member("sec_type", q.sec_type);
    if (!q.exchange.empty()) w.member("exchange", q.exchange);
    if (!q.currency.empty()) w.member("currency", q.currency);
    if (!q.last_trade_date_or_contract_month.empty())
      w.member("expiry", q.last_trade_date_or_contract_month);
    w.end_object();
    w.member("count", static_cast<unsigned long>(list.size()));
    w.member("as_of", iso_utc(as_of));
    w.key("contracts").begin_array();
    for (const auto& d : list) write_contract_summary(w, d);
    w.end_array();
    w.end_object();
  }
  return out;
}

std::string samples_json(const std::string& q, const std::vector<tws::ContractDescription>& list,
                         std::int64_t as_of) {
  std::string out;
  {
    JsonWriter w(out);
    w.begin_object();
    w.member("q", q);
    w.member("count", static_cast<unsigned long>(list.size()));
    w.member("as_of", iso_utc(as_of));
    w.key("contracts").begin_array();
    for (const auto& s : list) {
      w.begin_object();
      w.member("contract_id", s.con_id);
      w.member("symbol", s.symbol);
      w.member("sec_type", s.sec_type);
      w.member("primary_exchange", s.primary_exchange);
      w.member("currency", s.currency);
      w.key("derivative_sec_types").begin_array();
      for (const auto& t : s.derivative_sec_types) w.string(t);
      w.end_array();
      w.member("description", s.description);
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  return out;
}

std::string details_json(const tws::ContractDetails& d, std::int64_t as_of) {
  std::string summary;
  {
    JsonWriter w(summary);
    write_contract_summary(w, d);
  }
  summary.pop_back(); // reopen the object: the details follow
  std::string out = std::move(summary);
  std::string more;
  {
    JsonWriter w(more);
    w.begin_object();
    w.member("market_name", d.market_name);
    w.member("contract_month", d.contract_month);
    w.member("last_trade_date", d.last_trade_date);
    w.member("industry", d.industry);
    w.member("category", d.category);
    w.member("subcategory", d.subcategory);
    w.member("stock_type", d.stock_type);
    w.member("under_contract_id", d.under_con_id);
    w.key("valid_exchanges").begin_array();
    for (const auto& e : split_commas(d.valid_exchanges)) w.string(e);
    w.end_array();
    const auto parsed = parse(d);
    if (parsed.zone) {
      write_sessions(w, "trading_hours", parsed.trading, *parsed.zone);
      write_sessions(w, "liquid_hours", parsed.liquid, *parsed.zone);
    } else {
      w.member("hours_error", parsed.error);
    }
    w.key("hours_raw").begin_object();
    w.member("trading", d.trading_hours);
    w.member("liquid", d.liquid_hours);
    w.end_object();
    w.member("as_of", iso_utc(as_of));
    w.end_object();
  }
  out += ',';
  out.append(more, 1); // the members of `more`, its closing brace included
  return out;
}

bool hours_unknown_at(const tws::ContractDetails& d, std::int64_t now) {
  const auto parsed = parse(d);
  return !parsed.zone || !hours::status_at(parsed.trading, now).known;
}

std::string status_json(const tws::ContractDetails& d, std::int64_t now, std::int64_t as_of) {
  const auto parsed = parse(d);
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.member("contract_id", d.contract.con_id);
  w.member("symbol", d.contract.symbol);
  w.member("local_symbol", d.contract.local_symbol);
  w.member("time_zone", d.time_zone_id);
  w.member("now", iso_utc(now));
  const auto st = parsed.zone ? hours::status_at(parsed.trading, now) : hours::Status{};
  if (!parsed.zone || !st.known) {
    w.member("status", "unknown");
    w.member("reason", parsed.zone ? std::string("TWS's trading hours do not cover this time")
                                   : parsed.error);
    w.member("as_of", iso_utc(as_of));
    w.end_object();
    w.flush();
    return out;
  }
  w.member("status", st.open ? "open" : "closed");
  const auto liquid = hours::status_at(parsed.liquid, now);
  w.member("liquid", liquid.known && liquid.open);
  w.key("session");
  if (st.session) write_session(w, *st.session, *parsed.zone);
  else w.null();
  w.key("next_open");
  if (st.next_open) w.string(iso_utc(*st.next_open));
  else w.null();
  w.key("next_close");
  if (st.next_close) w.string(iso_utc(*st.next_close));
  else w.null();
  w.member("as_of", iso_utc(as_of));
  w.end_object();
  w.flush();
  return out;
}

} // namespace contracts

// store: TickRecord <-> ticks row (tick_rows.hpp).
#include "store/tick_rows.hpp"

#include <limits>

namespace store::rows {

namespace {

// Insert parameters: 1 con_id, 2 tick_type, 3 seq, 4 sub, 5 ib_time,
// 6 recv_us, 7 source, then the family's columns from 8.
const std::string kInsertHead =
    "INSERT OR IGNORE INTO ticks (con_id, tick_type, seq, sub, ib_time, recv_us, source, ";
const std::string kInsertLast = kInsertHead +
                                "price, size, exchange, conditions, past_limit, unreported) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
const std::string kInsertBidAsk =
    kInsertHead + "bid_price, ask_price, bid_size, ask_size, bid_past_low, ask_past_high) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
const std::string kInsertMid = kInsertHead + "midpoint) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

// Select columns: 0 seq, 1 sub, 2 ib_time, 3 recv_us, 4 source, then the
// family's columns from 5.
const std::string kSelectHead = "seq, sub, ib_time, recv_us, source, ";
const std::string kSelectLast =
    kSelectHead + "price, size, exchange, conditions, past_limit, unreported";
const std::string kSelectBidAsk =
    kSelectHead + "bid_price, ask_price, bid_size, ask_size, bid_past_low, ask_past_high";
const std::string kSelectMid = kSelectHead + "midpoint";

void bind_decimal(sqlite3_stmt* s, int i, const tws::Decimal& d) {
  if (d) sqlite3_bind_double(s, i, *d);
  else sqlite3_bind_null(s, i);
}
tws::Decimal column_decimal(sqlite3_stmt* s, int i) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_double(s, i);
}
bool column_bool(sqlite3_stmt* s, int i) { return sqlite3_column_int(s, i) != 0; }

std::int64_t tick_time(const tws::Tick& t) {
  return std::visit([](const auto& v) { return v.time; }, t);
}

} // namespace

Family family_of(tws::TickType t) {
  switch (t) {
  case tws::TickType::bid_ask: return Family::bid_ask;
  case tws::TickType::mid_point: return Family::mid_point;
  default: return Family::last;
  }
}

const std::string& insert_sql(Family f) {
  return f == Family::last ? kInsertLast : f == Family::bid_ask ? kInsertBidAsk : kInsertMid;
}

const std::string& select_columns(Family f) {
  return f == Family::last ? kSelectLast : f == Family::bid_ask ? kSelectBidAsk : kSelectMid;
}

void bind(sqlite3_stmt* s, const TickRecord& r) {
  sqlite3_bind_int(s, 1, r.con_id);
  sql::bind_text(s, 2, tws::to_string(r.tick_type));
  sqlite3_bind_int64(s, 3, static_cast<std::int64_t>(r.seq));
  sqlite3_bind_int64(s, 4, r.sub);
  sqlite3_bind_int64(s, 5, r.ib_time);
  sqlite3_bind_int64(s, 6, r.recv_us);
  sql::bind_text(s, 7, to_string(r.source));
  if (const auto* l = std::get_if<tws::TickByTickLast>(&r.tick)) {
    sqlite3_bind_double(s, 8, l->price);
    bind_decimal(s, 9, l->size);
    sql::bind_text(s, 10, l->exchange);
    sql::bind_text(s, 11, l->special_conditions);
    sqlite3_bind_int(s, 12, l->past_limit ? 1 : 0);
    sqlite3_bind_int(s, 13, l->unreported ? 1 : 0);
  } else if (const auto* q = std::get_if<tws::TickByTickBidAsk>(&r.tick)) {
    sqlite3_bind_double(s, 8, q->bid_price);
    sqlite3_bind_double(s, 9, q->ask_price);
    bind_decimal(s, 10, q->bid_size);
    bind_decimal(s, 11, q->ask_size);
    sqlite3_bind_int(s, 12, q->bid_past_low ? 1 : 0);
    sqlite3_bind_int(s, 13, q->ask_past_high ? 1 : 0);
  } else if (const auto* m = std::get_if<tws::TickByTickMidPoint>(&r.tick)) {
    sqlite3_bind_double(s, 8, m->mid_point);
  }
}

void decode(sqlite3_stmt* s, int con_id, tws::TickType type, TickRecord& r) {
  r.con_id = con_id;
  r.tick_type = type;
  r.seq = static_cast<std::uint64_t>(sqlite3_column_int64(s, 0));
  r.sub = static_cast<std::uint32_t>(sqlite3_column_int64(s, 1));
  r.ib_time = sqlite3_column_int64(s, 2);
  r.recv_us = sqlite3_column_int64(s, 3);
  r.source = sql::column_text(s, 4) == "backfill" ? Source::backfill : Source::live;
  switch (family_of(type)) {
  case Family::last: {
    auto* l = std::get_if<tws::TickByTickLast>(&r.tick);
    if (l == nullptr) l = &r.tick.emplace<tws::TickByTickLast>();
    l->req_id = 0;
    l->type = type;
    l->time = r.ib_time;
    l->price = sqlite3_column_double(s, 5);
    l->size = column_decimal(s, 6);
    l->exchange = sql::column_text(s, 7);
    l->special_conditions = sql::column_text(s, 8);
    l->past_limit = column_bool(s, 9);
    l->unreported = column_bool(s, 10);
    break;
  }
  case Family::bid_ask: {
    auto& q = r.tick.emplace<tws::TickByTickBidAsk>();
    q.time = r.ib_time;
    q.bid_price = sqlite3_column_double(s, 5);
    q.ask_price = sqlite3_column_double(s, 6);
    q.bid_size = column_decimal(s, 7);
    q.ask_size = column_decimal(s, 8);
    q.bid_past_low = column_bool(s, 9);
    q.ask_past_high = column_bool(s, 10);
    break;
  }
  case Family::mid_point: {
    auto& m = r.tick.emplace<tws::TickByTickMidPoint>();
    m.time = r.ib_time;
    m.mid_point = sqlite3_column_double(s, 5);
    break;
  }
  }
}

std::optional<std::string> invalid(const TickRecord& r) {
  const auto name = std::string(tws::to_string(r.tick_type));
  const auto t = static_cast<int>(r.tick_type);
  if (t < 1 || t > 4) return "tick_type " + std::to_string(t) + " is not a tick-by-tick type";
  const Family f = family_of(r.tick_type);
  const auto* l = std::get_if<tws::TickByTickLast>(&r.tick);
  const bool kind_ok = f == Family::last ? l != nullptr
                       : f == Family::bid_ask
                           ? std::holds_alternative<tws::TickByTickBidAsk>(r.tick)
                           : std::holds_alternative<tws::TickByTickMidPoint>(r.tick);
  if (!kind_ok) return "tick_type " + name + " but the tick is of another kind";
  if (l != nullptr && l->type != r.tick_type)
    return "tick_type " + name + " but the Last tick says " + std::string(tws::to_string(l->type));
  if (tick_time(r.tick) != r.ib_time)
    return "ib_time " + std::to_string(r.ib_time) + " but the tick's time is " +
           std::to_string(tick_time(r.tick));
  if (r.seq > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return "seq " + std::to_string(r.seq) + " is larger than SQLite's integers";
  return std::nullopt;
}

} // namespace store::rows

// Helpers of the store tests: a temporary record directory, tick records
// of each type, a day's start and direct SQLite queries on a file.
#pragma once

#include "store/day_file.hpp"
#include "store/store.hpp"

#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace store_test {

/// A fresh directory under /tmp, deleted with everything in it.
class TempDir {
public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ibs-store-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

private:
  std::filesystem::path path_;
};

/// 2026-12-04 00:00:00 UTC.
inline std::int64_t day0() {
  return store::day::start_of(*store::day::parse_file_name("ticks-2026-12-04.sqlite"));
}

inline store::TickRecord last(int con_id, std::uint64_t seq, std::int64_t t, double price,
                              tws::Decimal size = 100.0, std::string exchange = "NYSE",
                              tws::TickType type = tws::TickType::last) {
  store::TickRecord r;
  r.con_id = con_id;
  r.tick_type = type;
  r.seq = seq;
  r.ib_time = t;
  r.recv_us = t * 1000000 + 1234;
  tws::TickByTickLast l;
  l.type = type;
  l.time = t;
  l.price = price;
  l.size = size;
  l.exchange = std::move(exchange);
  r.tick = l;
  return r;
}

inline store::TickRecord bid_ask(int con_id, std::uint64_t seq, std::int64_t t, double bid,
                                 double ask, tws::Decimal bid_size = 1.0,
                                 tws::Decimal ask_size = 2.0) {
  store::TickRecord r;
  r.con_id = con_id;
  r.tick_type = tws::TickType::bid_ask;
  r.seq = seq;
  r.ib_time = t;
  r.recv_us = t * 1000000 + 99;
  tws::TickByTickBidAsk q;
  q.time = t;
  q.bid_price = bid;
  q.ask_price = ask;
  q.bid_size = bid_size;
  q.ask_size = ask_size;
  r.tick = q;
  return r;
}

inline store::TickRecord mid(int con_id, std::uint64_t seq, std::int64_t t, double mid_point) {
  store::TickRecord r;
  r.con_id = con_id;
  r.tick_type = tws::TickType::mid_point;
  r.seq = seq;
  r.ib_time = t;
  r.recv_us = t * 1000000;
  tws::TickByTickMidPoint m;
  m.time = t;
  m.mid_point = mid_point;
  r.tick = m;
  return r;
}

inline store::TickRecord backfilled(store::TickRecord r, std::uint64_t after_seq,
                                    std::uint32_t sub) {
  r.seq = after_seq;
  r.sub = sub;
  r.source = store::Source::backfill;
  return r;
}

/// Every row of a stream (no filter, no limit).
inline std::vector<store::TickRecord> read_all(const store::Store& st, int con_id,
                                               tws::TickType type, store::Query q = {}) {
  q.con_id = con_id;
  q.tick_type = type;
  if (q.limit == 10000) q.limit = static_cast<std::size_t>(-1);
  std::vector<store::TickRecord> out;
  st.read(q, [&](const store::TickRecord& r) {
    out.push_back(r);
    return true;
  });
  return out;
}

/// The rows of `sql` on `file` (read-only), each row's columns joined with
/// '|' (NULL as "NULL").
inline std::vector<std::string> query(const std::filesystem::path& file, const std::string& sql) {
  std::vector<std::string> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return {"cannot open"};
  }
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
    out.push_back(std::string("error: ") + sqlite3_errmsg(db));
  } else {
    while (sqlite3_step(s) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        if (i) row += '|';
        const auto* t = sqlite3_column_text(s, i);
        row += t ? reinterpret_cast<const char*>(t) : "NULL";
      }
      out.push_back(row);
    }
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

} // namespace store_test

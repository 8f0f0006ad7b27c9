// store::Store: the reader functions (any thread): read() in pages across
// day files, first_at_or_after, has_seq, last_recorded, summary, day_files.
// Each call takes read-only connections from the pool, one day file at a
// time; a day file deleted meanwhile (retention) simply has no rows.
#include "store/schema.hpp"
#include "store/store_impl.hpp"
#include "store/tick_rows.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace store {

namespace {

/// Rows per statement in read(): each page is its own short read
/// transaction, so a slow consumer never holds back WAL checkpoints.
constexpr std::size_t kPageRows = 2000;

const std::string kFirstAtTime =
    "SELECT seq, sub FROM ticks WHERE con_id = ?1 AND tick_type = ?2 AND ib_time >= ?3 "
    "ORDER BY ib_time, seq, sub LIMIT 1";
const std::string kLastRow = "SELECT seq, sub, ib_time FROM ticks WHERE con_id = ?1 AND "
                             "tick_type = ?2 ORDER BY seq DESC, sub DESC LIMIT 1";
const std::string kLiveAtTime =
    "SELECT count(*) FROM ticks INDEXED BY ticks_by_time WHERE con_id = ?1 AND tick_type = ?2 "
    "AND ib_time = ?3 AND source = 'live'";
const std::string kHasSeq =
    "SELECT 1 FROM ticks WHERE con_id = ?1 AND tick_type = ?2 AND seq = ?3 AND sub = 0";
const std::string kStats = "SELECT tick_type, source, rows, first_seq, last_seq, first_time, "
                           "last_time FROM stats WHERE con_id = ?1";

std::string page_sql(rows::Family f, bool inclusive, bool keys_only = false) {
  return "SELECT " + (keys_only ? std::string("seq, sub, ib_time") : rows::select_columns(f)) +
         " FROM ticks WHERE con_id = ?1 AND tick_type = ?2 AND (seq, sub) " +
         (inclusive ? ">=" : ">") + " (?3, ?4) ORDER BY seq, sub LIMIT ?5";
}

void bind_stream(sqlite3_stmt* s, int con_id, tws::TickType type) {
  sqlite3_bind_int(s, 1, con_id);
  sql::bind_text(s, 2, tws::to_string(type));
}

[[noreturn]] void throw_read_error(const ReaderPool::Lease& lease, int rc) {
  throw std::runtime_error(sql::failure(lease.db(), rc, lease.file(), "cannot read").message);
}

} // namespace

std::size_t Store::read(const Query& q, const std::function<bool(const TickRecord&)>& row) const {
  if (q.limit == 0) return 0;
  // ib_time * 1000 >= start_ms  <=>  ib_time >= ceil(start_ms / 1000); same for end.
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  const std::int64_t start_t = q.start_ms ? day::ceil_seconds(*q.start_ms) : kMin;
  const std::int64_t end_t = q.end_ms ? day::ceil_seconds(*q.end_ms) : kMax; // ib_time < end_t
  if (start_t >= end_t) return 0;
  const day::Number first_day = q.start_ms ? day::of_time(start_t) : kMin;
  const day::Number last_day = q.end_ms ? day::of_time(end_t - 1) : kMax;

  const auto family = rows::family_of(q.tick_type);
  const std::string sql_from = page_sql(family, true, q.keys_only),
                    sql_after = page_sql(family, false, q.keys_only);
  std::size_t given = 0;
  TickRecord rec;
  for (const auto& f : day::list(impl_->config.dir)) {
    if (f.day < first_day) continue;
    if (f.day > last_day) break;
    auto lease = impl_->pool.acquire(f.path, schema::Kind::day, day::text(f.day));
    if (!lease) continue;

    // Where this day's part starts: after `q.after`, and at the first row
    // at or after start (the time index finds it; the primary key walks on).
    Position pos;
    bool inclusive = true;
    if (q.after) {
      pos = *q.after;
      inclusive = false;
    }
    if (q.start_ms && start_t > day::start_of(f.day)) {
      sqlite3_stmt* s = lease.stmt(kFirstAtTime);
      sql::ResetOnExit reset(s);
      bind_stream(s, q.con_id, q.tick_type);
      sqlite3_bind_int64(s, 3, start_t);
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) continue; // nothing at or after start this day
      if (rc != SQLITE_ROW) throw_read_error(lease, rc);
      const Position first{static_cast<std::uint64_t>(sqlite3_column_int64(s, 0)),
                           static_cast<std::uint32_t>(sqlite3_column_int64(s, 1))};
      if (!q.after || first > *q.after) {
        pos = first;
        inclusive = true;
      }
    }

    for (;;) { // one page per pass
      const std::size_t want = std::min(kPageRows, q.limit - given);
      sqlite3_stmt* s = lease.stmt(inclusive ? sql_from : sql_after);
      sql::ResetOnExit reset(s);
      bind_stream(s, q.con_id, q.tick_type);
      sqlite3_bind_int64(s, 3, static_cast<std::int64_t>(pos.seq));
      sqlite3_bind_int64(s, 4, pos.sub);
      sqlite3_bind_int64(s, 5, static_cast<std::int64_t>(want));
      std::size_t n = 0;
      int rc = SQLITE_OK;
      while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        // IB time never decreases along (seq, sub): the first row at or
        // past the end ends the read.
        if (sqlite3_column_int64(s, 2) >= end_t) return given;
        if (q.keys_only) {
          rec.con_id = q.con_id;
          rec.tick_type = q.tick_type;
          rec.seq = static_cast<std::uint64_t>(sqlite3_column_int64(s, 0));
          rec.sub = static_cast<std::uint32_t>(sqlite3_column_int64(s, 1));
          rec.ib_time = sqlite3_column_int64(s, 2);
        } else {
          rows::decode(s, q.con_id, q.tick_type, rec);
        }
        ++n;
        ++given;
        pos = {rec.seq, rec.sub};
        inclusive = false;
        if (!row(rec) || given == q.limit) return given;
      }
      if (rc != SQLITE_DONE) throw_read_error(lease, rc);
      if (n < want) break; // this day is done
    }
  }
  return given;
}

std::optional<Position> Store::first_at_or_after(int con_id, tws::TickType type,
                                                 std::int64_t unix_ms) const {
  const std::int64_t t = day::ceil_seconds(unix_ms);
  for (const auto& f : day::list(impl_->config.dir)) {
    if (f.day < day::of_time(t)) continue;
    auto lease = impl_->pool.acquire(f.path, schema::Kind::day, day::text(f.day));
    if (!lease) continue;
    sqlite3_stmt* s = lease.stmt(kFirstAtTime);
    sql::ResetOnExit reset(s);
    bind_stream(s, con_id, type);
    sqlite3_bind_int64(s, 3, t);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
      return Position{static_cast<std::uint64_t>(sqlite3_column_int64(s, 0)),
                      static_cast<std::uint32_t>(sqlite3_column_int64(s, 1))};
    if (rc != SQLITE_DONE) throw_read_error(lease, rc);
  }
  return std::nullopt;
}

bool Store::has_seq(int con_id, tws::TickType type, std::uint64_t seq) const {
  auto files = day::list(impl_->config.dir);
  for (auto it = files.rbegin(); it != files.rend(); ++it) { // recent seqs first
    auto lease = impl_->pool.acquire(it->path, schema::Kind::day, day::text(it->day));
    if (!lease) continue;
    sqlite3_stmt* s = lease.stmt(kHasSeq);
    sql::ResetOnExit reset(s);
    bind_stream(s, con_id, type);
    sqlite3_bind_int64(s, 3, static_cast<std::int64_t>(seq));
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) throw_read_error(lease, rc);
  }
  return false;
}

std::optional<LastRecorded> Store::last_recorded(int con_id, tws::TickType type) const {
  auto files = day::list(impl_->config.dir);
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    auto lease = impl_->pool.acquire(it->path, schema::Kind::day, day::text(it->day));
    if (!lease) continue;
    LastRecorded last;
    {
      sqlite3_stmt* s = lease.stmt(kLastRow);
      sql::ResetOnExit reset(s);
      bind_stream(s, con_id, type);
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) continue;
      if (rc != SQLITE_ROW) throw_read_error(lease, rc);
      last.seq = static_cast<std::uint64_t>(sqlite3_column_int64(s, 0));
      last.sub = static_cast<std::uint32_t>(sqlite3_column_int64(s, 1));
      last.ib_time = sqlite3_column_int64(s, 2);
    }
    sqlite3_stmt* s = lease.stmt(kLiveAtTime);
    sql::ResetOnExit reset(s);
    bind_stream(s, con_id, type);
    sqlite3_bind_int64(s, 3, last.ib_time);
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) throw_read_error(lease, rc);
    last.live_at_time = static_cast<std::uint64_t>(sqlite3_column_int64(s, 0));
    return last;
  }
  return std::nullopt;
}

std::vector<StreamSummary> Store::summary(int con_id) const {
  std::map<tws::TickType, StreamSummary> by_type;
  for (const auto& f : day::list(impl_->config.dir)) {
    auto lease = impl_->pool.acquire(f.path, schema::Kind::day, day::text(f.day));
    if (!lease) continue;
    sqlite3_stmt* s = lease.stmt(kStats);
    sql::ResetOnExit reset(s);
    sqlite3_bind_int(s, 1, con_id);
    int rc = SQLITE_OK;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      const auto type = tws::parse_tick_type(sql::column_text(s, 0));
      if (!type) continue;
      const auto rows = static_cast<std::uint64_t>(sqlite3_column_int64(s, 2));
      const auto first_seq = static_cast<std::uint64_t>(sqlite3_column_int64(s, 3));
      const auto last_seq = static_cast<std::uint64_t>(sqlite3_column_int64(s, 4));
      const std::int64_t first_time = sqlite3_column_int64(s, 5);
      const std::int64_t last_time = sqlite3_column_int64(s, 6);
      auto [it, fresh] = by_type.try_emplace(*type);
      StreamSummary& sum = it->second;
      if (fresh) {
        sum.tick_type = *type;
        sum.first_seq = first_seq;
        sum.first_time = first_time;
        sum.last_seq = last_seq;
        sum.last_time = last_time;
      }
      sum.first_seq = std::min(sum.first_seq, first_seq);
      sum.last_seq = std::max(sum.last_seq, last_seq);
      sum.first_time = std::min(sum.first_time, first_time);
      sum.last_time = std::max(sum.last_time, last_time);
      sum.per_day[day::text(f.day)] += rows;
      (sql::column_text(s, 1) == "backfill" ? sum.backfill : sum.live) += rows;
    }
    if (rc != SQLITE_DONE) throw_read_error(lease, rc);
  }
  std::vector<StreamSummary> out;
  for (auto& [type, sum] : by_type) out.push_back(std::move(sum));
  return out;
}

std::vector<std::filesystem::path> Store::day_files() const {
  std::vector<std::filesystem::path> out;
  for (auto& f : day::list(impl_->config.dir)) out.push_back(std::move(f.path));
  return out;
}

} // namespace store

// store::Store: the gaps in meta.sqlite (add_gap, update_gap on the writer
// thread; gaps() from any thread, through the reader pool).
#include "store/schema.hpp"
#include "store/store_impl.hpp"

#include <array>
#include <stdexcept>

namespace store {

namespace {

constexpr std::array<std::string_view, 5> kStates = {"open", "filling", "filled", "partial",
                                                     "unfillable"};

const std::string kInsertGap =
    "INSERT INTO gaps (con_id, tick_type, after_seq, from_time, to_time, state, filled_ticks, "
    "reason, detail, opened_unix, updated_unix) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
const std::string kUpdateGap =
    "UPDATE gaps SET con_id = ?1, tick_type = ?2, after_seq = ?3, from_time = ?4, to_time = ?5, "
    "state = ?6, filled_ticks = ?7, reason = ?8, detail = ?9, opened_unix = ?10, "
    "updated_unix = ?11 WHERE id = ?12";
const std::string kSelectGaps =
    "SELECT id, con_id, tick_type, after_seq, from_time, to_time, state, filled_ticks, reason, "
    "detail, opened_unix, updated_unix FROM gaps WHERE con_id = ?1";

void bind_gap(sqlite3_stmt* s, const Gap& g) {
  sqlite3_bind_int(s, 1, g.con_id);
  sql::bind_text(s, 2, tws::to_string(g.tick_type));
  sqlite3_bind_int64(s, 3, static_cast<std::int64_t>(g.after_seq));
  sqlite3_bind_int64(s, 4, g.from_time);
  sqlite3_bind_int64(s, 5, g.to_time);
  sql::bind_text(s, 6, to_string(g.state));
  sqlite3_bind_int64(s, 7, static_cast<std::int64_t>(g.filled_ticks));
  sql::bind_text(s, 8, g.reason);
  sql::bind_text(s, 9, g.detail);
  sqlite3_bind_int64(s, 10, g.opened_unix);
  sqlite3_bind_int64(s, 11, g.updated_unix);
}

} // namespace

std::string_view to_string(Gap::State s) {
  const auto i = static_cast<std::size_t>(s);
  return i < kStates.size() ? kStates[i] : "open";
}

std::optional<Gap::State> parse_gap_state(std::string_view s) {
  for (std::size_t i = 0; i < kStates.size(); ++i)
    if (kStates[i] == s) return static_cast<Gap::State>(i);
  return std::nullopt;
}

std::optional<StoreError> Store::add_gap(Gap& gap) {
  sqlite3* db = impl_->meta_db.get();
  sqlite3_stmt* s = impl_->meta_stmts->get(kInsertGap);
  if (s == nullptr) {
    auto f = sql::failure(db, sqlite3_extended_errcode(db), impl_->meta_path, "cannot add a gap");
    return StoreError{f.message, f.disk_full};
  }
  sql::ResetOnExit reset(s);
  bind_gap(s, gap);
  if (const int rc = sqlite3_step(s); rc != SQLITE_DONE) {
    auto f = sql::failure(db, rc, impl_->meta_path, "cannot add a gap");
    return StoreError{f.message, f.disk_full};
  }
  gap.id = sqlite3_last_insert_rowid(db);
  return std::nullopt;
}

std::optional<StoreError> Store::update_gap(const Gap& gap) {
  sqlite3* db = impl_->meta_db.get();
  sqlite3_stmt* s = impl_->meta_stmts->get(kUpdateGap);
  if (s == nullptr) {
    auto f =
        sql::failure(db, sqlite3_extended_errcode(db), impl_->meta_path, "cannot update a gap");
    return StoreError{f.message, f.disk_full};
  }
  sql::ResetOnExit reset(s);
  bind_gap(s, gap);
  sqlite3_bind_int64(s, 12, gap.id);
  if (const int rc = sqlite3_step(s); rc != SQLITE_DONE) {
    auto f = sql::failure(db, rc, impl_->meta_path, "cannot update gap " + std::to_string(gap.id));
    return StoreError{f.message, f.disk_full};
  }
  if (sqlite3_changes(db) == 0)
    return StoreError{impl_->meta_path.string() + ": no gap " + std::to_string(gap.id) +
                          " to update (add_gap gives gaps their id)",
                      false};
  return std::nullopt;
}

std::vector<Gap> Store::gaps(int con_id, std::optional<tws::TickType> type) const {
  std::vector<Gap> out;
  auto lease = impl_->pool.acquire(impl_->meta_path, schema::Kind::meta, "");
  if (!lease) return out;
  sqlite3_stmt* s = lease.stmt(type ? kSelectGaps + " AND tick_type = ?2 ORDER BY id"
                                    : kSelectGaps + " ORDER BY id");
  sql::ResetOnExit reset(s);
  sqlite3_bind_int(s, 1, con_id);
  if (type) sql::bind_text(s, 2, tws::to_string(*type));
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    Gap g;
    g.id = sqlite3_column_int64(s, 0);
    g.con_id = sqlite3_column_int(s, 1);
    g.tick_type = tws::parse_tick_type(sql::column_text(s, 2)).value_or(tws::TickType::last);
    g.after_seq = static_cast<std::uint64_t>(sqlite3_column_int64(s, 3));
    g.from_time = sqlite3_column_int64(s, 4);
    g.to_time = sqlite3_column_int64(s, 5);
    g.state = parse_gap_state(sql::column_text(s, 6)).value_or(Gap::State::open);
    g.filled_ticks = static_cast<std::uint64_t>(sqlite3_column_int64(s, 7));
    g.reason = sql::column_text(s, 8);
    g.detail = sql::column_text(s, 9);
    g.opened_unix = sqlite3_column_int64(s, 10);
    g.updated_unix = sqlite3_column_int64(s, 11);
    out.push_back(std::move(g));
  }
  if (rc != SQLITE_DONE)
    throw std::runtime_error(
        sql::failure(lease.db(), rc, lease.file(), "cannot read gaps").message);
  return out;
}

} // namespace store

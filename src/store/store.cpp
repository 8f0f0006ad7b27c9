// store::Store: construction (the directory, meta.sqlite, a check of every
// day file present), the writer of the day files and retention.
//
// Thread-safety: as store.hpp: write() and enforce_retention() on the
// writer thread only.
#include "store/schema.hpp"
#include "store/store_impl.hpp"
#include "store/tick_rows.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <unistd.h>

namespace store {

namespace {

const std::string kUpsertStats =
    "INSERT INTO stats (con_id, tick_type, source, rows, first_seq, last_seq, first_time, "
    "last_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
    "ON CONFLICT (con_id, tick_type, source) DO UPDATE SET rows = rows + excluded.rows, "
    "first_seq = min(first_seq, excluded.first_seq), last_seq = max(last_seq, excluded.last_seq), "
    "first_time = min(first_time, excluded.first_time), "
    "last_time = max(last_time, excluded.last_time)";

/// The rows one transaction added to one stream and source (the stats row).
struct StreamStats {
  int con_id = 0;
  tws::TickType tick_type{};
  Source source{};
  std::int64_t rows = 0, first_seq = 0, last_seq = 0, first_time = 0, last_time = 0;
  bool same(const TickRecord& r) const {
    return con_id == r.con_id && tick_type == r.tick_type && source == r.source;
  }
  void add(const TickRecord& r) {
    const auto seq = static_cast<std::int64_t>(r.seq);
    if (rows++ == 0) {
      first_seq = last_seq = seq;
      first_time = last_time = r.ib_time;
      return;
    }
    first_seq = std::min(first_seq, seq);
    last_seq = std::max(last_seq, seq);
    first_time = std::min(first_time, r.ib_time);
    last_time = std::max(last_time, r.ib_time);
  }
};

std::string describe(const TickRecord& r, std::size_t index) {
  return "row " + std::to_string(index) + " (con_id " + std::to_string(r.con_id) + ", " +
         std::string(tws::to_string(r.tick_type)) + ", seq " + std::to_string(r.seq) + "." +
         std::to_string(r.sub) + ")";
}

} // namespace

std::string_view to_string(Source s) { return s == Source::backfill ? "backfill" : "live"; }

Store::Store(StoreConfig config) : impl_(std::make_unique<Impl>()) {
  impl_->config = std::move(config);
  const auto& dir = impl_->config.dir;
  if (impl_->config.retention_days < 0)
    throw std::runtime_error("retention_days must be 0 (keep everything) or more, not " +
                             std::to_string(impl_->config.retention_days));
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (!std::filesystem::is_directory(dir))
    throw std::runtime_error(dir.string() + ": cannot be the record directory: " +
                             (ec ? ec.message() : std::string("not a directory")));
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw std::runtime_error(dir.string() +
                             ": record directory not writable: " + std::strerror(errno));
  impl_->meta_path = dir / "meta.sqlite";
  sql::Failure error;
  impl_->meta_db = schema::open_for_write(impl_->meta_path, schema::Kind::meta, "", error);
  if (!impl_->meta_db) throw std::runtime_error(error.message);
  impl_->meta_stmts = std::make_unique<sql::StatementCache>(impl_->meta_db.get());
  // Every day file present must be ours: say so now rather than at the
  // first read of it.
  for (const auto& f : day::list(dir)) {
    bool missing = false;
    auto db = schema::open_for_read(f.path, error, missing);
    schema::Content content{};
    if (missing) continue;
    if (!db ||
        !schema::check(db.get(), f.path, schema::Kind::day, day::text(f.day), content, error))
      throw std::runtime_error(error.message);
  }
}

Store::~Store() = default;

const StoreConfig& Store::config() const { return impl_->config; }

Store::Impl::DayWriter* Store::Impl::writer(day::Number d, sql::Failure& error) {
  auto it = writers.find(d);
  if (it != writers.end()) return it->second.get();
  auto db = schema::open_for_write(day_path(d), schema::Kind::day, day::text(d), error);
  if (!db) return nullptr;
  return writers.emplace(d, std::make_unique<DayWriter>(std::move(db))).first->second.get();
}

std::optional<sql::Failure> Store::Impl::write_day(day::Number d, std::span<const TickRecord> rows,
                                                   std::span<const day::Number> days) {
  sql::Failure error;
  DayWriter* w = writer(d, error);
  if (w == nullptr) return error;
  sqlite3* db = w->db.get();
  const auto path = day_path(d);
  auto fail = [&](int rc, std::string_view what, int errno_after = 0) {
    error = sql::failure(db, rc, path, what, errno_after);
    if (!sqlite3_get_autocommit(db)) sql::exec(db, "ROLLBACK");
    close_writer(d); // a fresh connection for the next attempt
    return error;
  };
  errno = 0;
  int rc = sql::exec(db, "BEGIN IMMEDIATE");
  if (rc != SQLITE_OK) return fail(rc, "cannot begin a transaction", errno);
  sqlite3_stmt* inserts[3] = {};
  std::vector<StreamStats> stats;
  StreamStats* hit = nullptr;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (days[i] != d) continue;
    const TickRecord& r = rows[i];
    const auto family = rows::family_of(r.tick_type);
    auto& insert = inserts[static_cast<int>(family)];
    if (insert == nullptr && (insert = w->stmts.get(rows::insert_sql(family))) == nullptr)
      return fail(sqlite3_extended_errcode(db), "cannot prepare the insert");
    rows::bind(insert, r);
    rc = sqlite3_step(insert);
    const int step_errno = errno;
    sqlite3_reset(insert);
    if (rc != SQLITE_DONE) return fail(rc, "cannot write " + describe(r, i), step_errno);
    if (sqlite3_changes(db) == 0) continue; // already stored
    if (hit == nullptr || !hit->same(r)) {
      hit = nullptr;
      for (auto& s : stats)
        if (s.same(r)) hit = &s;
      if (hit == nullptr) hit = &stats.emplace_back(StreamStats{r.con_id, r.tick_type, r.source});
    }
    hit->add(r);
  }
  for (auto* insert : inserts)
    if (insert != nullptr) sqlite3_clear_bindings(insert);
  sqlite3_stmt* upsert = w->stmts.get(kUpsertStats);
  if (upsert == nullptr) return fail(sqlite3_extended_errcode(db), "cannot prepare the stats");
  for (const auto& s : stats) {
    sqlite3_bind_int(upsert, 1, s.con_id);
    sql::bind_text(upsert, 2, tws::to_string(s.tick_type));
    sql::bind_text(upsert, 3, to_string(s.source));
    sqlite3_bind_int64(upsert, 4, s.rows);
    sqlite3_bind_int64(upsert, 5, s.first_seq);
    sqlite3_bind_int64(upsert, 6, s.last_seq);
    sqlite3_bind_int64(upsert, 7, s.first_time);
    sqlite3_bind_int64(upsert, 8, s.last_time);
    rc = sqlite3_step(upsert);
    const int step_errno = errno;
    sqlite3_reset(upsert);
    if (rc != SQLITE_DONE) return fail(rc, "cannot update the stats", step_errno);
  }
  rc = sql::exec(db, "COMMIT");
  if (rc != SQLITE_OK) return fail(rc, "cannot commit", errno);
  return std::nullopt;
}

std::optional<StoreError> Store::write(std::span<const TickRecord> rows) {
  if (rows.empty()) return std::nullopt;
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (auto why = rows::invalid(rows[i]))
      return StoreError{"cannot record " + describe(rows[i], i) + ": " + *why, false};
  std::vector<day::Number> days(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) days[i] = day::of_time(rows[i].ib_time);
  std::vector<day::Number> touched = days;
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());

  std::optional<StoreError> first;
  int failed = 0;
  for (const day::Number d : touched) {
    if (auto error = impl_->write_day(d, rows, days)) {
      if (failed++ == 0) first = StoreError{error->message, error->disk_full};
    }
  }
  if (failed > 1) first->message += " (and " + std::to_string(failed - 1) + " more day files)";

  // Keep the newest two days open (late ticks near midnight); close the
  // older ones once this write is done with them.
  impl_->newest_day = std::max(impl_->newest_day, touched.back());
  for (auto it = impl_->writers.begin(); it != impl_->writers.end();) {
    if (it->first < impl_->newest_day - 1 &&
        !std::binary_search(touched.begin(), touched.end(), it->first))
      it = impl_->writers.erase(it);
    else ++it;
  }
  return first;
}

std::vector<std::filesystem::path> Store::enforce_retention(std::int64_t now_unix) {
  std::vector<std::filesystem::path> removed;
  if (impl_->config.retention_days == 0) return removed;
  const day::Number cutoff = day::of_time(now_unix) - impl_->config.retention_days;
  for (const auto& f : day::list(impl_->config.dir)) {
    if (f.day >= cutoff) break;
    impl_->close_writer(f.day);
    impl_->pool.forget(f.path);
    std::error_code ec;
    if (!std::filesystem::remove(f.path, ec) && ec) {
      spdlog::warn("retention: cannot delete {}: {}", f.path.string(), ec.message());
      continue;
    }
    for (const char* suffix : {"-wal", "-shm"})
      std::filesystem::remove(f.path.string() + suffix, ec);
    removed.push_back(f.path);
  }
  sqlite3_stmt* s = impl_->meta_stmts->get(
      "DELETE FROM gaps WHERE to_time != 0 AND to_time < ?1 AND state != 'open'");
  if (s != nullptr) {
    sqlite3_bind_int64(s, 1, day::start_of(cutoff));
    if (const int rc = sqlite3_step(s); rc != SQLITE_DONE)
      spdlog::warn("retention: {}", sql::failure(impl_->meta_db.get(), rc, impl_->meta_path,
                                                 "cannot delete old gaps")
                                        .message);
    sqlite3_reset(s);
  }
  return removed;
}

} // namespace store

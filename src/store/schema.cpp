// store: day file and meta.sqlite schema, creation and checks (schema.hpp).
#include "store/schema.hpp"

#include <cerrno>
#include <set>
#include <system_error>
#include <vector>

#ifndef IBS_VERSION
#define IBS_VERSION "0"
#endif

namespace store::schema {

namespace {

constexpr const char* kDaySchema = R"sql(
CREATE TABLE ticks (
  con_id INTEGER NOT NULL,
  tick_type TEXT NOT NULL,
  seq INTEGER NOT NULL,
  sub INTEGER NOT NULL DEFAULT 0,
  ib_time INTEGER NOT NULL,
  recv_us INTEGER NOT NULL,
  source TEXT NOT NULL,
  price REAL, size REAL, exchange TEXT, conditions TEXT, past_limit INTEGER, unreported INTEGER,
  bid_price REAL, ask_price REAL, bid_size REAL, ask_size REAL,
  bid_past_low INTEGER, ask_past_high INTEGER,
  midpoint REAL,
  PRIMARY KEY (con_id, tick_type, seq, sub)
) WITHOUT ROWID;
CREATE INDEX ticks_by_time ON ticks (con_id, tick_type, ib_time);
CREATE TABLE stats (
  con_id INTEGER NOT NULL,
  tick_type TEXT NOT NULL,
  source TEXT NOT NULL,
  rows INTEGER NOT NULL,
  first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL,
  first_time INTEGER NOT NULL, last_time INTEGER NOT NULL,
  PRIMARY KEY (con_id, tick_type, source)
) WITHOUT ROWID;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
)sql";

constexpr const char* kMetaSchema = R"sql(
CREATE TABLE gaps (
  id INTEGER PRIMARY KEY,
  con_id INTEGER NOT NULL,
  tick_type TEXT NOT NULL,
  after_seq INTEGER NOT NULL,
  from_time INTEGER NOT NULL,
  to_time INTEGER NOT NULL,
  state TEXT NOT NULL,
  filled_ticks INTEGER NOT NULL,
  reason TEXT NOT NULL,
  detail TEXT NOT NULL,
  opened_unix INTEGER NOT NULL,
  updated_unix INTEGER NOT NULL
);
CREATE INDEX gaps_by_stream ON gaps (con_id, tick_type, id);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
)sql";

std::vector<std::string> required_tables(Kind kind) {
  if (kind == Kind::day) return {"ticks", "stats", "meta"};
  return {"gaps", "meta"};
}

std::string what_file(Kind kind) {
  return kind == Kind::day ? "an ib-stream day file" : "the ib-stream meta database";
}

bool fail(sql::Failure& error, const std::filesystem::path& file, const std::string& text) {
  error = {file.string() + ": " + text, false};
  return false;
}

bool set_meta(sqlite3* db, const char* key, const std::string& value) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", -1, &raw,
                         nullptr) != SQLITE_OK)
    return false;
  sql::StmtPtr stmt(raw);
  sql::bind_text(raw, 1, key);
  sql::bind_text(raw, 2, value);
  return sqlite3_step(raw) == SQLITE_DONE;
}

} // namespace

bool check(sqlite3* db, const std::filesystem::path& file, Kind kind, const std::string& day_text,
           Content& content, sql::Failure& error) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type = 'table'", -1, &raw,
                              nullptr);
  sql::StmtPtr stmt(raw);
  std::set<std::string> tables;
  if (rc == SQLITE_OK)
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) tables.emplace(sql::column_text(raw, 0));
  if ((rc & 0xff) == SQLITE_NOTADB)
    return fail(error, file,
                "not an SQLite database, so not " + what_file(kind) +
                    " (left as it is: move it away or delete it)");
  if (rc != SQLITE_DONE) {
    error = sql::failure(db, rc, file, "cannot read the schema");
    return false;
  }
  if (tables.empty()) {
    content = Content::empty;
    return true;
  }
  for (const auto& t : required_tables(kind))
    if (!tables.contains(t))
      return fail(error, file,
                  "an SQLite database without the table '" + t + "', so not " + what_file(kind) +
                      " (left as it is: move it away or delete it)");
  raw = nullptr;
  rc = sqlite3_prepare_v2(db, "SELECT key, value FROM meta WHERE key IN ('schema_version', 'day')",
                          -1, &raw, nullptr);
  stmt.reset(raw);
  std::string version, day;
  if (rc == SQLITE_OK)
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW)
      (sql::column_text(raw, 0) == "day" ? day : version) = sql::column_text(raw, 1);
  if (rc != SQLITE_DONE) {
    error = sql::failure(db, rc, file, "cannot read the meta table");
    return false;
  }
  if (version != std::to_string(kVersion))
    return fail(error, file,
                "schema_version '" + version + "', this ib-stream reads version " +
                    std::to_string(kVersion));
  if (kind == Kind::day && day != day_text)
    return fail(error, file, "holds the day '" + day + "', its name says " + day_text);
  content = Content::ours;
  return true;
}

sql::DbPtr open_for_write(const std::filesystem::path& file, Kind kind, const std::string& day_text,
                          sql::Failure& error) {
  auto db = sql::open(file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, error);
  if (!db) return nullptr;
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  Content content = Content::empty;
  if (!check(db.get(), file, kind, day_text, content, error)) return nullptr;
  // journal_mode=WAL is kept in the file; synchronous is per connection.
  // A new file: 16 KiB pages (measured: about 8% more rows/s written than
  // 4 KiB, the same size on disk); settable only before the first table.
  if (content == Content::empty) sql::exec(db.get(), "PRAGMA page_size=16384");
  int rc = sql::exec(db.get(), "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL");
  if (rc != SQLITE_OK) {
    error = sql::failure(db.get(), rc, file, "cannot set WAL mode");
    return nullptr;
  }
  if (content == Content::ours) return db;
  rc = sql::exec(db.get(), "BEGIN IMMEDIATE");
  if (rc == SQLITE_OK) rc = sql::exec(db.get(), kind == Kind::day ? kDaySchema : kMetaSchema);
  bool ok = rc == SQLITE_OK;
  if (ok)
    ok = set_meta(db.get(), "schema_version", std::to_string(kVersion)) &&
         set_meta(db.get(), "created_by", std::string("ib-stream ") + IBS_VERSION) &&
         (kind != Kind::day || set_meta(db.get(), "day", day_text));
  if (ok) rc = sql::exec(db.get(), "COMMIT");
  const int errno_after = errno;
  if (!ok || rc != SQLITE_OK) {
    error = sql::failure(db.get(), ok ? rc : sqlite3_extended_errcode(db.get()), file,
                         "cannot create the tables", errno_after);
    if (!sqlite3_get_autocommit(db.get())) sql::exec(db.get(), "ROLLBACK");
    return nullptr;
  }
  return db;
}

sql::DbPtr open_for_read(const std::filesystem::path& file, sql::Failure& error, bool& missing) {
  std::error_code ec;
  missing = !std::filesystem::exists(file, ec);
  if (missing) return nullptr;
  auto db = sql::open(file, SQLITE_OPEN_READONLY, error);
  if (!db) {
    missing = !std::filesystem::exists(file, ec);
    return nullptr;
  }
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  return db;
}

} // namespace store::schema

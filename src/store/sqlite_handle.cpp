// store: SQLite RAII helpers and error text (sqlite_handle.hpp).
#include "store/sqlite_handle.hpp"

#include <cerrno>
#include <cstring>

namespace store::sql {

Failure failure(sqlite3* db, int rc, const std::filesystem::path& file, std::string_view what,
                int errno_after) {
  Failure f;
  const int primary = rc & 0xff;
  int sys_errno = db != nullptr ? sqlite3_system_errno(db) : 0;
  if (sys_errno == 0 && primary == SQLITE_IOERR) sys_errno = errno_after;
  f.message = file.string();
  f.message += ": ";
  if (!what.empty()) {
    f.message += what;
    f.message += ": ";
  }
  f.message += db != nullptr && sqlite3_extended_errcode(db) != SQLITE_OK ? sqlite3_errmsg(db)
                                                                          : sqlite3_errstr(rc);
  if (sys_errno != 0 && (primary == SQLITE_IOERR || primary == SQLITE_FULL ||
                         primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY)) {
    f.message += " (";
    f.message += std::strerror(sys_errno);
    f.message += ")";
  }
  f.disk_full = primary == SQLITE_FULL ||
                (primary == SQLITE_IOERR && (sys_errno == ENOSPC || sys_errno == EFBIG));
  return f;
}

DbPtr open(const std::filesystem::path& file, int flags, Failure& error) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(file.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    error = failure(db.get(), rc, file, "cannot open");
    return nullptr;
  }
  sqlite3_extended_result_codes(db.get(), 1);
  return db;
}

int exec(sqlite3* db, const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); }

sqlite3_stmt* StatementCache::get(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return it->second.get();
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(raw);
    return nullptr;
  }
  return cache_.emplace(sql, StmtPtr(raw)).first->second.get();
}

} // namespace store::sql

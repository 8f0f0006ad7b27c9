// store: thin RAII over the SQLite C API (connections, prepared statements,
// a per-connection statement cache) and the error text every Store message
// is built from.
//
// Thread-safety: a Db and its statements belong to one thread at a time
// (connections are opened with SQLITE_OPEN_NOMUTEX); handing one to another
// thread needs a happens-before (the reader pool's mutex).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace store::sql {

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct FinalizeStmt {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, CloseDb>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, FinalizeStmt>;

/// A failed SQLite call, described for a person.
struct Failure {
  std::string message; // "<file>: <what>: <sqlite message> (<errno text>)"
  bool disk_full = false;
};

/// The error of the last call on `db` that returned `rc`. `errno_after`:
/// errno read right after that call, for the I/O errors SQLite reports
/// without their system error (a failed WAL write at COMMIT: EFBIG).
Failure failure(sqlite3* db, int rc, const std::filesystem::path& file, std::string_view what,
                int errno_after = 0);

/// Opens `file` (flags as sqlite3_open_v2, plus NOMUTEX). On failure returns
/// nullptr and sets `error`.
DbPtr open(const std::filesystem::path& file, int flags, Failure& error);

/// Runs `sql` (no rows expected). Returns SQLITE_OK or the error code.
int exec(sqlite3* db, const char* sql);

/// Statements of one connection, prepared once (SQLITE_PREPARE_PERSISTENT)
/// and reused. Users reset a statement when done with it (ResetOnExit).
class StatementCache {
public:
  explicit StatementCache(sqlite3* db) : db_(db) {}
  /// nullptr when preparing failed (sqlite3_errmsg(db) says why).
  sqlite3_stmt* get(const std::string& sql);
  void clear() { cache_.clear(); }

private:
  sqlite3* db_;
  std::unordered_map<std::string, StmtPtr> cache_;
};

/// Resets a statement when it goes out of scope (ends its read).
class ResetOnExit {
public:
  explicit ResetOnExit(sqlite3_stmt* s) : s_(s) {}
  ~ResetOnExit() {
    if (s_ != nullptr) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

private:
  sqlite3_stmt* s_;
};

inline void bind_text(sqlite3_stmt* s, int i, std::string_view text) {
  // SQLITE_STATIC: every caller steps before the text goes away.
  sqlite3_bind_text(s, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}
inline std::string_view column_text(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  if (p == nullptr) return {};
  return {p, static_cast<std::size_t>(sqlite3_column_bytes(s, i))};
}

} // namespace store::sql

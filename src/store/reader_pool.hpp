// store: the read-only connections of the reader functions, pooled per
// file: a reader takes one (opening it when none is idle), reads, and gives
// it back; connections are never shared by two readers at once, so readers
// do not wait for each other, and WAL lets them read while the writer
// commits. A connection is checked (schema, version, day) when it opens.
//
// Thread-safety: acquire() and forget() may be called from any thread; the
// pool's mutex is held only to take or give back a connection.
#pragma once

#include "store/schema.hpp"
#include "store/sqlite_handle.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace store {

class ReaderPool {
public:
  struct Conn {
    sql::DbPtr db;
    sql::StatementCache stmts;
    std::string file;
    std::uint64_t generation = 0;
    bool checked = false;
    Conn(sql::DbPtr d, std::string f, std::uint64_t g)
        : db(std::move(d)), stmts(db.get()), file(std::move(f)), generation(g) {}
  };

  /// A connection taken from the pool; given back when destroyed.
  class Lease {
  public:
    Lease() = default;
    Lease(ReaderPool* pool, std::unique_ptr<Conn> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = default;
    ~Lease() {
      if (conn_) pool_->release(std::move(conn_));
    }
    explicit operator bool() const { return conn_ != nullptr; }
    sqlite3* db() const { return conn_->db.get(); }
    /// A cached statement; throws std::runtime_error when it cannot be prepared.
    sqlite3_stmt* stmt(const std::string& sql);
    const std::string& file() const { return conn_->file; }

  private:
    ReaderPool* pool_ = nullptr;
    std::unique_ptr<Conn> conn_;
  };

  /// Idle connections kept per file.
  static constexpr std::size_t kIdlePerFile = 4;

  /// A connection to `file`, or an empty lease when the file does not exist
  /// or holds no tables yet (nothing to read). Throws std::runtime_error
  /// naming the file when it cannot be read or is not ours.
  Lease acquire(const std::filesystem::path& file, schema::Kind kind, const std::string& day_text);
  /// Closes the idle connections to `file`; those in use close when given
  /// back (the writer is about to delete it).
  void forget(const std::filesystem::path& file);

private:
  void release(std::unique_ptr<Conn> conn);

  std::mutex mutex_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<Conn>>> idle_;
  std::unordered_map<std::string, std::uint64_t> generation_;
};

} // namespace store

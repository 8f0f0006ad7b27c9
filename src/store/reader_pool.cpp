// store: pooled read-only connections (reader_pool.hpp).
#include "store/reader_pool.hpp"

#include <stdexcept>

namespace store {

sqlite3_stmt* ReaderPool::Lease::stmt(const std::string& sql) {
  sqlite3_stmt* s = conn_->stmts.get(sql);
  if (s == nullptr)
    throw std::runtime_error(conn_->file + ": cannot read: " + sqlite3_errmsg(conn_->db.get()));
  return s;
}

ReaderPool::Lease ReaderPool::acquire(const std::filesystem::path& file, schema::Kind kind,
                                      const std::string& day_text) {
  const std::string key = file.string();
  std::unique_ptr<Conn> conn;
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    generation = generation_[key];
    auto it = idle_.find(key);
    if (it != idle_.end() && !it->second.empty()) {
      conn = std::move(it->second.back());
      it->second.pop_back();
    }
  }
  if (!conn) {
    sql::Failure error;
    bool missing = false;
    auto db = schema::open_for_read(file, error, missing);
    if (!db) {
      if (missing) return {};
      throw std::runtime_error(error.message);
    }
    conn = std::make_unique<Conn>(std::move(db), key, generation);
  }
  if (!conn->checked) {
    schema::Content content = schema::Content::empty;
    sql::Failure error;
    if (!schema::check(conn->db.get(), file, kind, day_text, content, error)) {
      // A file deleted under us (retention) is simply gone.
      std::error_code ec;
      if (!std::filesystem::exists(file, ec)) return {};
      throw std::runtime_error(error.message);
    }
    if (content == schema::Content::empty) {
      release(std::move(conn));
      return {};
    }
    conn->checked = true;
  }
  return Lease(this, std::move(conn));
}

void ReaderPool::forget(const std::filesystem::path& file) {
  std::vector<std::unique_ptr<Conn>> closing;
  {
    std::lock_guard lock(mutex_);
    ++generation_[file.string()];
    auto it = idle_.find(file.string());
    if (it != idle_.end()) {
      closing = std::move(it->second);
      idle_.erase(it);
    }
  }
}

void ReaderPool::release(std::unique_ptr<Conn> conn) {
  std::lock_guard lock(mutex_);
  if (conn->generation != generation_[conn->file]) return; // closes after the lock
  auto& list = idle_[conn->file];
  if (list.size() < kIdlePerFile) list.push_back(std::move(conn));
}

} // namespace store

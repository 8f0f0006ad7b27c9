// store: Store::Impl, shared by the writer (store.cpp, store_gaps.cpp) and
// the readers (store_read.cpp).
//
// Thread-safety: `writers`, `newest_day`, `meta_db` and `meta_stmts` belong
// to the writer thread; `pool` is thread-safe; `config` and `meta_path` are
// constant after construction.
#pragma once

#include "store/day_file.hpp"
#include "store/reader_pool.hpp"
#include "store/sqlite_handle.hpp"
#include "store/store.hpp"

#include <limits>
#include <map>
#include <memory>

namespace store {

struct Store::Impl {
  /// The writer's connection to one day file, with its statements.
  struct DayWriter {
    sql::DbPtr db;
    sql::StatementCache stmts;
    explicit DayWriter(sql::DbPtr d) : db(std::move(d)), stmts(db.get()) {}
  };

  StoreConfig config;
  std::filesystem::path meta_path;

  std::map<day::Number, std::unique_ptr<DayWriter>> writers;
  day::Number newest_day = std::numeric_limits<day::Number>::min();
  sql::DbPtr meta_db;
  std::unique_ptr<sql::StatementCache> meta_stmts;

  mutable ReaderPool pool;

  std::filesystem::path day_path(day::Number d) const { return config.dir / day::file_name(d); }
  /// The writer of day `d`, opened (and the file created) when needed.
  DayWriter* writer(day::Number d, sql::Failure& error);
  /// Writes the rows of `rows` whose day is `d` in one transaction.
  std::optional<sql::Failure> write_day(day::Number d, std::span<const TickRecord> rows,
                                        std::span<const day::Number> days);
  /// Closes the writer of day `d` (if open).
  void close_writer(day::Number d) { writers.erase(d); }
};

/// "open", ... back to the state; nullopt for other text.
std::optional<Gap::State> parse_gap_state(std::string_view s);

} // namespace store

// store: the two kinds of database file (a day file of ticks, meta.sqlite),
// their schema (docs/recording.md), creating it in a new or empty file and
// checking that an existing file is ours before anything is written to it.
//
// Thread-safety: functions over a connection the caller owns.
#pragma once

#include "store/sqlite_handle.hpp"

#include <string>

namespace store::schema {

inline constexpr int kVersion = 1;

enum class Kind { day, meta };

/// What an existing file holds.
enum class Content { ours, empty };

/// Checks the file behind `db`: ours (tables and schema_version; for a day
/// file, the day in its meta table must be `day_text`), or an empty database
/// (no tables: a file we created and never filled). Anything else (not
/// SQLite, other tables, another version) is a failure naming the file.
bool check(sqlite3* db, const std::filesystem::path& file, Kind kind, const std::string& day_text,
           Content& content, sql::Failure& error);

/// Opens `file` for writing (creating it when missing): checks it, creates
/// the schema in an empty file (one transaction), sets WAL,
/// synchronous=NORMAL and the busy timeout. nullptr + `error` on failure;
/// a file that is not ours is never written to.
sql::DbPtr open_for_write(const std::filesystem::path& file, Kind kind, const std::string& day_text,
                          sql::Failure& error);

/// Opens an existing file read-only (busy timeout set, writes refused).
/// nullptr + `error` when it cannot be opened (`missing` set when the file
/// does not exist).
sql::DbPtr open_for_read(const std::filesystem::path& file, sql::Failure& error, bool& missing);

inline constexpr int kBusyTimeoutMs = 5000;

} // namespace store::schema

// store: a TickRecord as a row of the `ticks` table and back: the columns
// each tick type uses, the INSERT of each, binding a record to it, decoding
// a selected row, and the checks a record passes before it is written.
//
// Thread-safety: pure functions over statements the caller owns.
#pragma once

#include "store/sqlite_handle.hpp"
#include "store/store.hpp"

#include <optional>
#include <string>

namespace store::rows {

/// The three column layouts: Last/AllLast, BidAsk, MidPoint.
enum class Family { last, bid_ask, mid_point };
Family family_of(tws::TickType t);

/// "INSERT OR IGNORE INTO ticks (...) VALUES (...)" for one family.
const std::string& insert_sql(Family f);
/// Binds `r` to a statement made from insert_sql(family_of(r.tick_type)).
void bind(sqlite3_stmt* insert, const TickRecord& r);

/// The column list a SELECT gives decode() (seq first), for one family.
const std::string& select_columns(Family f);
/// Fills `r` from the current row of a statement selecting
/// select_columns(family_of(type)); con_id and tick_type are given.
void decode(sqlite3_stmt* s, int con_id, tws::TickType type, TickRecord& r);

/// Why `r` cannot be stored, or nullopt: the tick's kind must be the
/// record's tick type (and a Last tick's `type` equal to it), its time
/// ib_time, and seq fit in SQLite's signed 64-bit integers.
std::optional<std::string> invalid(const TickRecord& r);

} // namespace store::rows

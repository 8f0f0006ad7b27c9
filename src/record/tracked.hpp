// The tracked streams: which (contract, tick type) pairs the recorder keeps
// open and records. Parsed from IB_STREAM_TRACK / --track
// ("265598:BidAsk,Last;711280073:BidAsk,Last") and kept in the data
// directory (`tracked.json`) so that runtime changes outlive a restart.
//
// Value types and pure functions; TrackedFile is used by one thread at a
// time (the recorder's loop).
#pragma once

#include "tws/messages.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace record {

/// contract id -> tick types.
using TrackedSet = std::map<int, std::set<tws::TickType>>;

/// contract spec ("AAPL:STK:SMART:USD", canonical) -> tick types: resolved
/// to ids once TWS answers.
using TrackedSpecs = std::map<std::string, std::set<tws::TickType>>;

/// Parses a --track value: entries CONTRACT:TICK_TYPE[,TICK_TYPE...]
/// separated by ';', CONTRACT a contract id or a spec
/// SYMBOL[:SEC_TYPE[:EXCHANGE[:CURRENCY[:EXPIRY]]]] (the tick types follow
/// the last ':'). Specs go to `specs` (an error when it is null). On error
/// returns nullopt and sets `error` to one line naming the bad part. An
/// empty value is an empty set.
std::optional<TrackedSet> parse_track_spec(std::string_view spec, std::string& error,
                                           TrackedSpecs* specs = nullptr);
/// Parses a tick_types list ("BidAsk,Last"; case-insensitive).
std::optional<std::set<tws::TickType>> parse_tick_type_list(std::string_view list,
                                                            std::string& error);
/// The --track form of a set.
std::string format_track_spec(const TrackedSet& set);

/// `<dir>/tracked.json`: {"tracked":[{"contract_id":N,"tick_types":[...]}]}.
class TrackedFile {
public:
  explicit TrackedFile(std::filesystem::path dir);
  const std::filesystem::path& path() const { return path_; }
  /// The saved set (empty when there is no file). Throws std::runtime_error
  /// naming the file when it exists but cannot be read.
  TrackedSet load() const;
  /// Writes atomically (temporary file, then rename). Returns an error
  /// message, empty on success.
  std::string save(const TrackedSet& set) const;

private:
  std::filesystem::path path_;
};

} // namespace record

// store: UTC days and the day files' names (`ticks-YYYY-MM-DD.sqlite`).
//
// Thread-safety: pure functions; list() reads the directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace store::day {

/// Days since 1970-01-01 (UTC).
using Number = std::int64_t;

Number of_time(std::int64_t unix_seconds);
std::int64_t start_of(Number day); // Unix seconds of its midnight (UTC)
std::string text(Number day);      // "2026-12-04"
std::string file_name(Number day); // "ticks-2026-12-04.sqlite"
/// The day of a file name made by file_name(); nullopt for any other name.
std::optional<Number> parse_file_name(std::string_view name);

struct File {
  Number day = 0;
  std::filesystem::path path;
};
/// Day files in `dir`, oldest first (empty when `dir` cannot be read).
std::vector<File> list(const std::filesystem::path& dir);

/// Milliseconds to seconds, rounded down and up.
constexpr std::int64_t floor_seconds(std::int64_t ms) {
  return ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
}
constexpr std::int64_t ceil_seconds(std::int64_t ms) { return ms / 1000 + (ms % 1000 > 0 ? 1 : 0); }

} // namespace store::day

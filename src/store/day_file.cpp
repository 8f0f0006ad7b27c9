// store: UTC days and day file names (day_file.hpp).
#include "store/day_file.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <system_error>

namespace store::day {

namespace chr = std::chrono;

Number of_time(std::int64_t unix_seconds) {
  return chr::floor<chr::days>(chr::sys_seconds{chr::seconds{unix_seconds}})
      .time_since_epoch()
      .count();
}

std::int64_t start_of(Number day) { return day * 86400; }

std::string text(Number day) {
  const chr::year_month_day ymd{chr::sys_days{chr::days{day}}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

std::string file_name(Number day) { return "ticks-" + text(day) + ".sqlite"; }

std::optional<Number> parse_file_name(std::string_view name) {
  constexpr std::string_view prefix = "ticks-", suffix = ".sqlite";
  if (name.size() != prefix.size() + 10 + suffix.size() || !name.starts_with(prefix) ||
      !name.ends_with(suffix))
    return std::nullopt;
  const std::string_view date = name.substr(prefix.size(), 10);
  int y = 0;
  unsigned m = 0, d = 0;
  for (std::size_t i = 0; i < date.size(); ++i) {
    const bool dash = i == 4 || i == 7;
    if (dash ? date[i] != '-' : (date[i] < '0' || date[i] > '9')) return std::nullopt;
  }
  std::sscanf(std::string(date).c_str(), "%4d-%2u-%2u", &y, &m, &d);
  const chr::year_month_day ymd{chr::year{y}, chr::month{m}, chr::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return chr::sys_days{ymd}.time_since_epoch().count();
}

std::vector<File> list(const std::filesystem::path& dir) {
  std::vector<File> files;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (auto day = parse_file_name(name)) files.push_back({*day, it->path()});
  }
  std::sort(files.begin(), files.end(), [](const File& a, const File& b) { return a.day < b.day; });
  return files;
}

} // namespace store::day

#include "http/process_metrics.hpp"

#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace http {
namespace {

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

template <class T> std::optional<T> number(std::string_view s) {
  T v{};
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

} // namespace

std::optional<ProcessStats> parse_proc_stat(std::string_view stat, std::uint64_t boot_time,
                                            long ticks_per_second, long page_size) {
  // "pid (comm) state ppid ...": comm may hold spaces and ')', so the
  // fields are counted after the last ')'.
  const auto close = stat.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0 || page_size <= 0)
    return std::nullopt;
  std::vector<std::string_view> f; // f[0] is field 3 (state)
  for (std::size_t at = close + 1; at < stat.size();) {
    while (at < stat.size() && (stat[at] == ' ' || stat[at] == '\n')) ++at;
    const auto end = std::min(stat.find_first_of(" \n", at), stat.size());
    if (end > at) f.push_back(stat.substr(at, end - at));
    at = end;
  }
  // Fields (man 5 proc): 14 utime, 15 stime, 22 starttime, 23 vsize, 24 rss.
  if (f.size() < 22) return std::nullopt;
  const auto utime = number<std::uint64_t>(f[14 - 3]);
  const auto stime = number<std::uint64_t>(f[15 - 3]);
  const auto start = number<std::uint64_t>(f[22 - 3]);
  const auto vsize = number<std::uint64_t>(f[23 - 3]);
  const auto rss = number<std::int64_t>(f[24 - 3]);
  if (!utime || !stime || !start || !vsize || !rss) return std::nullopt;
  ProcessStats s;
  const auto tps = static_cast<double>(ticks_per_second);
  s.cpu_seconds = static_cast<double>(*utime + *stime) / tps;
  s.start_time_seconds = static_cast<double>(boot_time) + static_cast<double>(*start) / tps;
  s.virtual_bytes = *vsize;
  s.resident_bytes =
      *rss > 0 ? static_cast<std::uint64_t>(*rss) * static_cast<std::uint64_t>(page_size) : 0;
  return s;
}

std::optional<ProcessStats> read_process_stats() {
  std::uint64_t boot_time = 0;
  {
    std::istringstream in(read_file("/proc/stat"));
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("btime ", 0) == 0)
        boot_time = number<std::uint64_t>(line.substr(6)).value_or(0);
  }
  auto s = parse_proc_stat(read_file("/proc/self/stat"), boot_time, sysconf(_SC_CLK_TCK),
                           sysconf(_SC_PAGESIZE));
  if (!s) return std::nullopt;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec))
    ++s->open_fds;
  if (s->open_fds > 0) --s->open_fds; // the directory iterator's own descriptor
  std::istringstream limits(read_file("/proc/self/limits"));
  std::string line;
  while (std::getline(limits, line)) {
    if (line.rfind("Max open files", 0) != 0) continue;
    std::istringstream fields(line.substr(14));
    std::string soft;
    fields >> soft;
    s->max_fds = number<std::uint64_t>(soft); // "unlimited": unset
  }
  return s;
}

} // namespace http

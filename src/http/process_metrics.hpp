// The standard `process_*` metrics of this process, read from Linux's /proc
// (README "Metrics"): CPU seconds, resident and virtual memory, open and
// maximum file descriptors, start time.
//
// Pure reads of /proc; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace http {

struct ProcessStats {
  double cpu_seconds = 0.0; // user + system
  std::uint64_t resident_bytes = 0;
  std::uint64_t virtual_bytes = 0;
  std::uint64_t open_fds = 0;
  std::optional<std::uint64_t> max_fds; // the soft limit; unset when unlimited
  double start_time_seconds = 0.0;      // Unix time
};

/// This process's stats; nullopt where /proc cannot be read.
std::optional<ProcessStats> read_process_stats();

/// The parts of it that parse text, for tests: `stat` is /proc/<pid>/stat,
/// `boot_time` the `btime` of /proc/stat, `ticks_per_second` and
/// `page_size` those of sysconf. Nullopt when `stat` does not parse.
std::optional<ProcessStats> parse_proc_stat(std::string_view stat, std::uint64_t boot_time,
                                            long ticks_per_second, long page_size);

} // namespace http

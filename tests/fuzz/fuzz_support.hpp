// Helpers shared by the libFuzzer targets of tests/fuzz/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace fuzz {

/// A broken invariant is a finding: abort so libFuzzer saves the input.
inline void check(bool ok) {
  if (!ok) std::abort();
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// The input cut at '\n' into at most `max_lines` lines; the last one keeps
/// any further '\n' bytes.
inline std::vector<std::string_view> split_lines(std::string_view text, std::size_t max_lines) {
  std::vector<std::string_view> lines;
  while (lines.size() + 1 < max_lines) {
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos) break;
    lines.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  lines.push_back(text);
  return lines;
}

/// Reference parse of a decimal id as api.md defines it: one or more ASCII
/// digits, no sign or space, at most 20 digits, value at most UINT64_MAX.
inline std::optional<std::uint64_t> reference_unsigned(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

/// Reference parse of an SSE event id (README "Recording and history"):
/// `N` (a live tick) or `N.K` (a backfilled tick, K from 1 to UINT32_MAX),
/// each part as reference_unsigned.
inline std::optional<std::pair<std::uint64_t, std::uint32_t>>
reference_event_id(std::string_view s) {
  const auto dot = s.find('.');
  const auto seq = reference_unsigned(s.substr(0, dot));
  if (!seq) return std::nullopt;
  if (dot == std::string_view::npos) return std::pair<std::uint64_t, std::uint32_t>{*seq, 0};
  const auto sub = reference_unsigned(s.substr(dot + 1));
  if (!sub || *sub == 0 || *sub > UINT32_MAX) return std::nullopt;
  return std::pair<std::uint64_t, std::uint32_t>{*seq, static_cast<std::uint32_t>(*sub)};
}

} // namespace fuzz

// The id of an SSE tick event as ib-stream-server sends it: `seq` for a
// live tick, `seq.sub` for a backfilled one (it sits after live tick `seq`
// in the record, at position `sub` of its gap; README "Recording and
// history"). Ordered on (seq, sub); the text is kept as the server sent it,
// for Last-Event-ID. Header-only (the unit tests use it without the CLI).
//
// A value type; thread-safe as values are.
#pragma once

#include <charconv>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace studies_cli {

struct EventId {
  std::uint64_t seq = 0;
  std::uint64_t sub = 0; // 0: a live tick
  std::string text;      // as sent, e.g. "5120.3"

  friend std::strong_ordering operator<=>(const EventId& a, const EventId& b) {
    if (auto c = a.seq <=> b.seq; c != 0) return c;
    return a.sub <=> b.sub;
  }
  friend bool operator==(const EventId& a, const EventId& b) {
    return a.seq == b.seq && a.sub == b.sub;
  }
};

/// "5120" or "5120.3"; nothing for anything else (empty, signs, spaces,
/// a lone dot, more than one dot, numbers past 64 bits).
inline std::optional<EventId> parse_event_id(std::string_view text) {
  auto number = [](std::string_view s, std::uint64_t& out) {
    if (s.empty()) return false;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
  };
  EventId id;
  const auto dot = text.find('.');
  if (!number(text.substr(0, dot), id.seq)) return std::nullopt;
  if (dot != std::string_view::npos && !number(text.substr(dot + 1), id.sub)) return std::nullopt;
  id.text = std::string(text);
  return id;
}

/// Live ticks missing between two ticks received one after the other
/// (`next` after `last`): live ticks are numbered one by one, backfilled
/// ones (N.1, N.2, ...) sit between N and N+1 and never make a gap.
inline std::uint64_t ticks_missing_between(const EventId& last, const EventId& next) {
  return next.seq > last.seq + 1 ? next.seq - last.seq - 1 : 0;
}

} // namespace studies_cli

// A tick's fields and its server receive time packed into a few bytes: the
// `record` of a log entry (log.hpp), what the recorder stores. Fixed
// little-endian layout of this process (never written to disk or wire).
//
// Pure functions; thread-safe.
#pragma once

#include "tws/client.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stream {

struct TickFields {
  tws::Tick tick;
  std::int64_t recv_us = 0; // server receive time, Unix microseconds
};

/// Appends the packed form of `tick` received at `recv_us` to `out`.
void append_tick_fields(std::string& out, const tws::Tick& tick, std::int64_t recv_us);
/// Unpacks what append_tick_fields wrote; nullopt for anything else.
std::optional<TickFields> read_tick_fields(std::string_view packed);

/// The IB time of a tick.
std::int64_t tick_time(const tws::Tick& tick);

} // namespace stream

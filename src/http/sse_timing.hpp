// The timings of every SSE response of ib-stream-server (SseSession's
// /stream, DeltaSession's /studies/{contract}/delta): one set, so that the
// streams behave alike towards a client.
//
// Constants; thread-safe.
#pragma once

#include <chrono>
#include <cstddef>

namespace http::sse_timing {

using namespace std::chrono_literals;

/// A client that takes longer than this to accept one write is gone.
inline constexpr auto kWriteTimeout = 30s;
/// While a write waits for the client: how often the window is checked.
inline constexpr auto kBehindCheck = 1s;
/// After the last frame: how long the client may take to close its end.
inline constexpr auto kLingerAfterLast = 2s;
/// A slow consumer's connection closes this long after its error unless
/// the client is still reading (then again, up to kSlowConsumerMax in all).
inline constexpr auto kSlowConsumerGrace = 5s;
inline constexpr auto kSlowConsumerMax = 60s;
/// An output buffer grown beyond this is released once written, so a burst
/// does not pin memory on a quiet client.
inline constexpr std::size_t kKeepCapacity = 64 * 1024;

} // namespace http::sse_timing

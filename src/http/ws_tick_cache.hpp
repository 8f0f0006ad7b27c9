// http::WsTickCache: the WebSocket form of the latest tick (the shared
// suffix of ws::ws_tick_parts), so that a tick is serialized once for all
// the WebSocket clients of its subscription (design.md), not once per client.
//
// The Hub hands one TickEventPtr to every client of a subscription in one
// loop, so a single entry keyed by that pointer serves them all; holding the
// pointer keeps its address from being reused by another tick.
//
// Thread-safety: suffix() may be called from any thread (one mutex, no I/O).
#pragma once

#include "stream/hub.hpp"
#include "ws/ws_messages.hpp"

#include <mutex>

namespace http {

class WsTickCache {
public:
  /// The shared `"contract_id":...}` suffix of `tick`'s WebSocket message.
  stream::Frame suffix(const stream::TickEventPtr& tick) {
    std::lock_guard lock(mutex_);
    if (tick_ != tick) {
      suffix_ = ws::ws_tick_parts(*tick);
      tick_ = tick;
    }
    return suffix_;
  }

private:
  std::mutex mutex_;
  stream::TickEventPtr tick_;
  stream::Frame suffix_;
};

} // namespace http

// http::WsTickCache: the WebSocket form of the latest tick (the shared
// suffix of ws::ws_tick_parts and, when a permessage-deflate client wants
// it, that suffix deflated: ws_deflate.hpp), so that a tick is serialized -
// and compressed - once for all the WebSocket clients of its subscription
// (design.md), not once per client.
//
// The Hub hands one TickEventPtr to every client of a subscription in one
// loop, so a single entry keyed by that pointer serves them all; holding the
// pointer keeps its address from being reused by another tick.
//
// Thread-safety: get() may be called from any thread (one mutex, no I/O).
#pragma once

#include "http/ws_deflate.hpp"
#include "stream/hub.hpp"
#include "ws/ws_messages.hpp"

#include <memory>
#include <mutex>
#include <string>

namespace http {

/// One tick's shared WebSocket bytes.
struct WsTickBytes {
  stream::Frame suffix; // `"contract_id":...}`, after the subscription's prefix
  std::string deflated; // deflate_message_part(*suffix); empty until wanted
};
using WsTick = std::shared_ptr<const WsTickBytes>;

class WsTickCache {
public:
  /// `tick`'s shared bytes; with `deflated`, the compressed suffix too.
  WsTick get(const stream::TickEventPtr& tick, bool deflated) {
    std::lock_guard lock(mutex_);
    if (tick_ != tick || (deflated && !bytes_->suffix->empty() && bytes_->deflated.empty())) {
      auto b = std::make_shared<WsTickBytes>();
      b->suffix = tick_ == tick ? bytes_->suffix : ws::ws_tick_parts(*tick);
      if (deflated) b->deflated = deflate_message_part(*b->suffix);
      bytes_ = std::move(b);
      tick_ = tick;
    }
    return bytes_;
  }

private:
  std::mutex mutex_;
  stream::TickEventPtr tick_;
  WsTick bytes_;
};

} // namespace http

// http::WsRegistry: the open WebSocket sessions, so that a server shutdown
// can tell each of them to end (`complete` shutdown, then close 1001) even
// when it has no subscription the Hub could end.
//
// Holds callbacks, never owning pointers: a session registers a callback
// that captures a weak pointer and posts to its own strand.
//
// Thread-safety: every member function may be called from any thread; the
// callbacks run outside the lock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

namespace http {

class WsRegistry {
public:
  using Shutdown = std::function<void()>;

  /// Registers a session; the id is for remove().
  std::uint64_t add(Shutdown shutdown) {
    std::lock_guard lock(mutex_);
    const auto id = ++next_;
    sessions_.emplace(id, std::move(shutdown));
    return id;
  }

  void remove(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    sessions_.erase(id);
  }

  /// Calls every registered callback once (they must only post).
  void shutdown_all() {
    std::vector<Shutdown> calls;
    {
      std::lock_guard lock(mutex_);
      for (const auto& [id, f] : sessions_) calls.push_back(f);
    }
    for (const auto& f : calls) f();
  }

private:
  std::mutex mutex_;
  std::uint64_t next_ = 0;
  std::map<std::uint64_t, Shutdown> sessions_;
};

} // namespace http

// ws::IpConnectionLimiter: at most N concurrent WebSocket connections per
// client IP (api.md §5: 10). A connection takes a slot at the upgrade and
// gives it back when it ends; the per-IP counts feed /ws/stats.
//
// Thread-safety: every member function may be called concurrently from any
// thread (one mutex; no I/O under it). A Lease must not outlive its limiter.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace ws {

class IpConnectionLimiter {
public:
  /// Releases its slot when destroyed; movable, not copyable.
  class Lease {
  public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    const std::string& ip() const { return ip_; }
    /// Gives the slot back now (idempotent).
    void release();

  private:
    friend class IpConnectionLimiter;
    Lease(IpConnectionLimiter* owner, std::string ip) : owner_(owner), ip_(std::move(ip)) {}
    IpConnectionLimiter* owner_ = nullptr;
    std::string ip_;
  };

  explicit IpConnectionLimiter(std::size_t max_per_ip);

  /// Takes a slot for `ip`: true, or false when it already holds
  /// max_per_ip (then nothing changed: do not release()).
  bool try_acquire(const std::string& ip);
  /// Gives back a slot taken by try_acquire (ignored if `ip` holds none).
  void release(const std::string& ip);
  /// try_acquire() as a Lease; nullopt when the limit is reached.
  std::optional<Lease> acquire(const std::string& ip);

  std::size_t count(const std::string& ip) const;
  std::size_t total() const;
  /// Connections per IP, only IPs that hold one, sorted by IP.
  std::map<std::string, std::size_t> counts() const;
  std::size_t max_per_ip() const { return max_per_ip_; }

private:
  const std::size_t max_per_ip_;
  mutable std::mutex mutex_;
  std::map<std::string, std::size_t> counts_;
  std::size_t total_ = 0;
};

} // namespace ws

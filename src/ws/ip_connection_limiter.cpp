#include "ws/ip_connection_limiter.hpp"

#include <utility>

namespace ws {

IpConnectionLimiter::Lease::Lease(Lease&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), ip_(std::move(other.ip_)) {}

IpConnectionLimiter::Lease& IpConnectionLimiter::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    ip_ = std::move(other.ip_);
  }
  return *this;
}

IpConnectionLimiter::Lease::~Lease() { release(); }

void IpConnectionLimiter::Lease::release() {
  if (auto* owner = std::exchange(owner_, nullptr)) owner->release(ip_);
}

IpConnectionLimiter::IpConnectionLimiter(std::size_t max_per_ip) : max_per_ip_(max_per_ip) {}

bool IpConnectionLimiter::try_acquire(const std::string& ip) {
  std::lock_guard lock(mutex_);
  auto& n = counts_[ip];
  if (n >= max_per_ip_) {
    if (n == 0) counts_.erase(ip); // max_per_ip == 0: keep no empty entries
    return false;
  }
  ++n;
  ++total_;
  return true;
}

void IpConnectionLimiter::release(const std::string& ip) {
  std::lock_guard lock(mutex_);
  const auto it = counts_.find(ip);
  if (it == counts_.end()) return;
  --total_;
  if (--it->second == 0) counts_.erase(it);
}

std::optional<IpConnectionLimiter::Lease> IpConnectionLimiter::acquire(const std::string& ip) {
  if (!try_acquire(ip)) return std::nullopt;
  return Lease(this, ip);
}

std::size_t IpConnectionLimiter::count(const std::string& ip) const {
  std::lock_guard lock(mutex_);
  const auto it = counts_.find(ip);
  return it == counts_.end() ? 0 : it->second;
}

std::size_t IpConnectionLimiter::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

std::map<std::string, std::size_t> IpConnectionLimiter::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

} // namespace ws

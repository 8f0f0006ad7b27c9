// A log-linear latency histogram in the manner of HdrHistogram: 64 linear
// sub-buckets per power of two (under 1.6% error), fixed memory, O(1) record.
//
// Thread-safety: none; one owner records, others copy it under the owner's lock.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

namespace bench {

class LatencyHistogram {
public:
  void record(std::uint64_t value_ns) {
    ++counts_[index_of(value_ns)];
    ++total_;
    max_ = std::max(max_, value_ns);
  }
  void merge(const LatencyHistogram& other) {
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
    max_ = std::max(max_, other.max_);
  }
  void reset() { *this = LatencyHistogram{}; }

  std::uint64_t count() const { return total_; }
  std::uint64_t max() const { return max_; }

  /// The value at quantile q (0..1): the midpoint of the bucket holding it.
  std::uint64_t quantile(double q) const {
    if (total_ == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(value_of(i), max_);
    }
    return max_;
  }

private:
  static constexpr int kSubBits = 6;                         // 64 sub-buckets
  static constexpr std::uint64_t kLinear = 2ull << kSubBits; // values below are exact

  static std::size_t index_of(std::uint64_t v) {
    if (v < kLinear) return static_cast<std::size_t>(v);
    const int msb = 63 - std::countl_zero(v);
    const int shift = msb - kSubBits;
    return static_cast<std::size_t>(shift) * (1u << kSubBits) +
           static_cast<std::size_t>(v >> shift);
  }
  static std::uint64_t value_of(std::size_t i) {
    if (i < kLinear) return i;
    const std::size_t shift = i / (1u << kSubBits) - 1;
    const std::uint64_t base = static_cast<std::uint64_t>(i - shift * (1u << kSubBits)) << shift;
    return base + ((1ull << shift) >> 1);
  }

  std::array<std::uint64_t, 64 * (1u << kSubBits)> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
};

} // namespace bench

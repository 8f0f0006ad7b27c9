// The simulator's own pseudo-random generator: xoshiro256** seeded through
// splitmix64, with integer-only bounded draws.
//
// Why not <random>: std::uniform_int_distribution and friends are
// implementation-defined, so the same seed gives different markets with
// libstdc++, libc++ and MSVC. Every draw here is plain 64-bit integer
// arithmetic, identical on every platform and compiler.
//
// Thread-safety: a value type; one object per thread.
#pragma once

#include <cstdint>

namespace sim {

class Prng {
public:
  /// Seeds the four state words from `seed` with splitmix64, as the
  /// xoshiro authors recommend (never leaves the state all zero).
  explicit Prng(std::uint64_t seed) {
    for (auto& word : s_) word = splitmix64(seed);
  }

  /// splitmix64 step: advances `state` and returns a well-mixed word. Also
  /// used on its own to derive per-contract seeds.
  static std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  /// Next raw 64-bit output of xoshiro256**.
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform integer in [0, n) for n >= 1, without modulo bias: draws that
  /// fall in the short last bucket are rejected (rare; deterministic).
  std::uint64_t below(std::uint64_t n) {
    if (n <= 1) return 0;
    const std::uint64_t threshold = (0 - n) % n; // 2^64 mod n
    for (;;) {
      const std::uint64_t x = next();
      if (x >= threshold) return x % n;
    }
  }

  /// Uniform integer in [lo, hi] (inclusive), lo <= hi.
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
    return lo + static_cast<std::int64_t>(below(span));
  }

  /// True with probability percent/100 (integer percent, 0..100).
  /// Always consumes one draw, whatever `percent`, so that the sequence of
  /// draws never depends on a clamped probability.
  bool chance(int percent) {
    const std::uint64_t r = below(100);
    return percent > 0 && r < static_cast<std::uint64_t>(percent);
  }

private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  std::uint64_t s_[4] = {};
};

} // namespace sim

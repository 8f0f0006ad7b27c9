// One TICK_BY_TICK frame, encoded once by the codec and re-addressed to
// each subscriber.
//
// Why: a tick goes to every subscriber of its (contract, tick type), and
// only the reqId field (the second one) differs. Encoding with
// tws::encode() per subscriber would redo the number formatting each time;
// instead the frame is encoded once for reqId 0 and the part after the reqId
// is reused, with a fresh length prefix, "99" and the subscriber's reqId in
// front. The bytes are identical to tws::encode() with that reqId.
//
// Thread-safety: immutable after construction.
#pragma once

#include <charconv>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sim {

class TickFrame {
public:
  /// `frame` must come from tws::encode(TickByTick...) with req_id 0.
  explicit TickFrame(std::string_view frame) {
    static constexpr std::string_view kHead{"99\0"
                                            "0\0",
                                            5};
    if (frame.size() < 4 + kHead.size() || frame.substr(4, kHead.size()) != kHead)
      throw std::logic_error("TickFrame: not a TICK_BY_TICK frame for reqId 0");
    tail_ = std::string(frame.substr(4 + kHead.size()));
  }

  /// Appends the frame for `req_id` to `out`.
  void append_to(std::string& out, int req_id) const {
    char digits[16];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, req_id);
    const auto n_digits = static_cast<std::size_t>(end - digits);
    const auto n = static_cast<std::uint32_t>(3 + n_digits + 1 + tail_.size());
    const char prefix[4] = {static_cast<char>((n >> 24) & 0xFF),
                            static_cast<char>((n >> 16) & 0xFF), static_cast<char>((n >> 8) & 0xFF),
                            static_cast<char>(n & 0xFF)};
    out.append(prefix, 4);
    out.append("99\0", 3);
    out.append(digits, n_digits);
    out.push_back('\0');
    out.append(tail_);
  }

private:
  std::string tail_;
};

} // namespace sim

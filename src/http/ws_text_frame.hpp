// The header of an unmasked, final WebSocket text frame (RFC 6455 §5.2), as
// a server writes it: the session frames its messages itself when it
// writes several of them with one socket write (CoalescingStream).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace http {

struct WsFrameHeader {
  std::array<unsigned char, 10> bytes{};
  std::size_t size = 0;
};

/// FIN + opcode 1 (text), no mask, the payload length in the shortest form;
/// `compressed` sets RSV1 (permessage-deflate, RFC 7692).
inline WsFrameHeader ws_text_frame_header(std::uint64_t payload_bytes, bool compressed = false) {
  WsFrameHeader h;
  h.bytes[0] = compressed ? 0xC1 : 0x81;
  if (payload_bytes < 126) {
    h.bytes[1] = static_cast<unsigned char>(payload_bytes);
    h.size = 2;
  } else if (payload_bytes <= 0xFFFF) {
    h.bytes[1] = 126;
    h.bytes[2] = static_cast<unsigned char>(payload_bytes >> 8);
    h.bytes[3] = static_cast<unsigned char>(payload_bytes);
    h.size = 4;
  } else {
    h.bytes[1] = 127;
    for (int i = 0; i < 8; ++i)
      h.bytes[2 + i] = static_cast<unsigned char>(payload_bytes >> (56 - 8 * i));
    h.size = 10;
  }
  return h;
}

} // namespace http

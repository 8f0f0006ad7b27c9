// libFuzzer target: a TWS byte stream as a hostile peer could send it.
//
// Input layout: byte 0 picks how the rest is cut into socket-read-sized
// chunks (and the frame cap); bytes 1.. are the stream. Every frame that
// comes out of FrameReader goes through both decoders at server versions
// 100, 163 and 187, and through the handshake parsers. Decoded messages are
// re-encoded and decoded again: that must always succeed.
//
// This is also the simulator's request decoder target: ib-tws-sim reads a
// client connection with the same FrameReader (take_raw for the "API\0"
// prefix), parse_handshake_versions and decode_request (src/sim/api_session.cpp,
// request_handler.cpp), all of which run here on every frame.
//
// Feeds: TWS bytes: FrameReader, client and simulator decoders, handshake parsers
//
// Build: cmake -DIBS_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++; run: scripts/fuzz.sh.
#include "fuzz_support.hpp"
#include "tws/messages.hpp"
#include "tws/wire.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

namespace {

constexpr int kVersions[] = {100, 163, 187};

using fuzz::check;

/// Re-encodes a decoded TWS message; the result must decode to the same kind.
void reencode_message(const tws::DecodedMessage& d, int v) {
  std::string frame;
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, tws::ErrorMessage> ||
                      std::is_same_v<T, tws::ContractData> ||
                      std::is_same_v<T, tws::SymbolSamples>) {
          frame = tws::encode(m, v);
        } else if constexpr (std::is_same_v<T, tws::TickByTickNone> ||
                             std::is_same_v<T, tws::OtherMessage>) {
          // No encoder: nothing to check.
        } else {
          frame = tws::encode(m);
        }
      },
      d.message);
  if (frame.empty()) return;
  check(frame.size() >= 4);
  const auto again = tws::decode_message(std::string_view(frame).substr(4), v);
  check(!again.error);
  check(again.msg_id == d.msg_id);
  check(again.message.index() == d.message.index());
}

/// Re-encodes a decoded request; requests must round-trip exactly.
void reencode_request(const tws::DecodedRequest& d, int v) {
  std::string frame;
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, tws::StartApi> ||
                      std::is_same_v<T, tws::ReqContractDetails>) {
          frame = tws::encode(m, v);
        } else if constexpr (std::is_same_v<T, tws::ReqTickByTickData>) {
          // Below 140 the encoder can only express numberOfTicks 0 / no ignoreSize.
          if (v >= tws::sv::kTickByTickIgnoreSize || (m.number_of_ticks == 0 && !m.ignore_size))
            frame = tws::encode(m, v);
        } else if constexpr (std::is_same_v<T, tws::OtherRequest>) {
          // No encoder.
        } else {
          frame = tws::encode(m);
        }
      },
      d.request);
  if (frame.empty()) return;
  const auto again = tws::decode_request(std::string_view(frame).substr(4), v);
  check(!again.error);
  check(again.request == d.request);
}

void decode_everything(std::string_view payload) {
  for (int v : kVersions) {
    const auto m = tws::decode_message(payload, v);
    if (!m.error) reencode_message(m, v);
    const auto r = tws::decode_request(payload, v);
    if (!r.error) reencode_request(r, v);
  }
  std::error_code ec;
  if (auto hello = tws::decode_server_hello(payload, ec)) {
    check(!ec && hello->server_version > 0);
  } else {
    check(static_cast<bool>(ec));
  }
  if (auto hs = tws::parse_handshake_versions(payload)) check(hs->min_version <= hs->max_version);
  if (auto fields = tws::split_fields(payload)) check(fields->size() <= payload.size());
  check(tws::printable_payload(payload, 64).size() <= 64 + 4 + 3);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned seed = data[0];
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);

  // Odd seeds use a tiny frame cap so the oversized-frame path is reachable
  // with small inputs.
  tws::FrameReader reader((seed & 1) != 0 ? 8 + (seed >> 1) : tws::kMaxFrameSize);
  const std::size_t chunk_sizes[4] = {1 + (seed & 7), 1 + ((seed >> 3) & 31), 4096, 1 + seed};

  bool handshake_checked = false;
  bool dead = false;
  std::size_t pos = 0;
  for (std::size_t i = 0; pos < stream.size() && !dead; ++i) {
    const std::size_t n = std::min(chunk_sizes[i % 4], stream.size() - pos);
    if ((seed & 2) != 0) {
      char* dst = reader.prepare(n);
      std::memcpy(dst, stream.data() + pos, n);
      reader.commit(n);
    } else {
      reader.append(stream.substr(pos, n));
    }
    pos += n;

    // A client connection starts with the raw "API\0" prefix.
    if (!handshake_checked && reader.buffered() >= 4) {
      handshake_checked = true;
      if (stream.substr(0, 4) == std::string_view("API\0", 4)) {
        auto raw = reader.take_raw(4);
        check(raw.has_value() && raw->size() == 4);
      }
    }

    for (;;) {
      std::string_view payload;
      std::error_code ec;
      const auto st = reader.next(payload, ec);
      if (st == tws::FrameReader::Status::need_more) break;
      if (st == tws::FrameReader::Status::error) {
        check(static_cast<bool>(ec));
        // Framing is lost for good.
        std::error_code ec2;
        check(reader.next(payload, ec2) == tws::FrameReader::Status::error && ec2 == ec);
        dead = true;
        break;
      }
      check(!payload.empty());
      decode_everything(payload);
    }
  }
  check(reader.buffered() <= stream.size());
  return 0;
}

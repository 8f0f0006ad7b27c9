#include "stream/ws_deflate.hpp"

#include <boost/beast/zlib/deflate_stream.hpp>

#include <cstdint>
#include <stdexcept>

namespace stream {
namespace zlib = boost::beast::zlib;

std::string deflate_message_part(std::string_view bytes) {
  // One stream per thread, its buffers kept; reset() forgets all history,
  // so the output refers to nothing before `bytes`.
  thread_local zlib::deflate_stream ds;
  ds.reset();
  std::string out(ds.upper_bound(bytes.size()) + 16, '\0');
  zlib::z_params zs;
  zs.next_in = bytes.data();
  zs.avail_in = bytes.size();
  zs.next_out = out.data();
  zs.avail_out = out.size();
  boost::system::error_code ec;
  ds.write(zs, zlib::Flush::sync, ec);
  if (ec || zs.avail_in != 0) throw std::runtime_error("deflate failed: " + ec.message());
  out.resize(zs.total_out);
  // A sync flush ends with an empty stored block: 00 00 FF FF.
  if (out.size() < 4 ||
      out.compare(out.size() - 4, 4, std::string_view("\x00\x00\xff\xff", 4)) != 0)
    throw std::runtime_error("deflate: no sync flush marker");
  out.resize(out.size() - 4);
  return out;
}

void append_stored_block(std::string& out, std::string_view bytes) {
  if (bytes.size() > 0xFFFF) throw std::length_error("stored block over 65535 bytes");
  const auto len = static_cast<std::uint16_t>(bytes.size());
  const auto nlen = static_cast<std::uint16_t>(~len);
  out += '\0'; // BFINAL 0, BTYPE 00 (stored), then up to the byte boundary
  out += static_cast<char>(len & 0xFF);
  out += static_cast<char>(len >> 8);
  out += static_cast<char>(nlen & 0xFF);
  out += static_cast<char>(nlen >> 8);
  out.append(bytes);
}

} // namespace stream

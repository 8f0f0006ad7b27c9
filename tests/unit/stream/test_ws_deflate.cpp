// Shared permessage-deflate for ticks (ws_deflate.hpp): a stored block with
// a client's prefix + the suffix deflated once inflates to prefix + suffix,
// message after message with the context a client's inflater keeps.
#include "stream/ws_deflate.hpp"

#include <boost/beast/zlib/inflate_stream.hpp>
#include <gtest/gtest.h>

#include <string>

namespace {

namespace zlib = boost::beast::zlib;

/// What a permessage-deflate receiver does with one message's payload.
std::string inflate_message(zlib::inflate_stream& in, std::string payload) {
  payload.append("\x00\x00\xff\xff", 4);
  std::string out(1 << 20, '\0');
  zlib::z_params zs;
  zs.next_in = payload.data();
  zs.avail_in = payload.size();
  zs.next_out = out.data();
  zs.avail_out = out.size();
  boost::system::error_code ec;
  in.write(zs, zlib::Flush::sync, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(zs.avail_in, 0u);
  out.resize(zs.total_out);
  return out;
}

std::string message(const std::string& prefix, const std::string& deflated) {
  std::string payload;
  stream::append_stored_block(payload, prefix);
  EXPECT_EQ(payload.size(), 5 + prefix.size());
  payload += deflated;
  return payload;
}

TEST(WsDeflate, StoredPrefixPlusSharedSuffixInflatesMessageAfterMessage) {
  const std::string suffix1 =
      R"("contract_id":265598,"tick_type":"BidAsk","data":{"type":"bid_ask","bid_price":189.5,)"
      R"("ask_price":189.52,"bid_size":300,"ask_size":200},"timestamp":"2026-11-25T21:00:00.000Z"})";
  std::string suffix2 = suffix1;
  suffix2.replace(suffix2.find("189.5,"), 6, "189.49,");
  const std::string big(70000, 'x'); // several deflate blocks, beyond the 32 KiB window
  const auto d1 = stream::deflate_message_part(suffix1);
  const auto d2 = stream::deflate_message_part(suffix2);
  const auto d3 = stream::deflate_message_part(big);
  EXPECT_LT(d1.size(), suffix1.size());
  EXPECT_EQ(d1, stream::deflate_message_part(suffix1)) << "no history: the same bytes every time";

  zlib::inflate_stream in;
  in.reset(15);
  const std::string p1 = R"({"type":"tick","request_id":"req-1",)";
  const std::string p2 = R"({"type":"tick","request_id":"req-22",)";
  EXPECT_EQ(inflate_message(in, message(p1, d1)), p1 + suffix1);
  EXPECT_EQ(inflate_message(in, message(p2, d2)), p2 + suffix2);
  EXPECT_EQ(inflate_message(in, message(p1, d3)), p1 + big);
  EXPECT_EQ(inflate_message(in, message("", d1)), suffix1);
}

TEST(WsDeflate, StoredBlockLayout) {
  std::string out;
  stream::append_stored_block(out, "abc");
  EXPECT_EQ(out, std::string("\x00\x03\x00\xfc\xff"
                             "abc",
                             8));
  EXPECT_THROW(stream::append_stored_block(out, std::string(70000, 'a')), std::length_error);
}

} // namespace

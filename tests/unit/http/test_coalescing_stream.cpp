// http::CoalescingStream over real loopback sockets: frames appended or
// written while a socket write is in flight go out together, in order;
// back-pressure past the high-water mark; errors stick; a Beast WebSocket
// peer reads the session's own frames and Beast's between them, then the
// close (teardown writes what is buffered first). Also the text frame header.
#include "http/coalescing_stream.hpp"
#include "http/ws_text_frame.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Coalescing = http::CoalescingStream<tcp::socket>;

/// A connected loopback pair: `server` wrapped in the layer, `peer` plain.
struct Pair {
  asio::io_context ioc;
  std::unique_ptr<Coalescing> server;
  tcp::socket peer{ioc};

  Pair() {
    tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    peer.connect(acceptor.local_endpoint());
    server = std::make_unique<Coalescing>(acceptor.accept());
  }
  /// Reads exactly n bytes from the peer (blocking; the io_context is idle).
  std::string read_peer(std::size_t n) {
    std::string out(n, '\0');
    asio::read(peer, asio::buffer(out));
    return out;
  }
};

std::string numbered(int i) { return "<" + std::to_string(i) + ">"; }

TEST(CoalescingStream, AppendedFramesGoOutInOneWrite) {
  Pair p;
  std::string want;
  for (int i = 0; i < 100; ++i) {
    const auto s = numbered(i);
    p.server->append(asio::buffer(s));
    want += s;
  }
  EXPECT_EQ(p.server->buffered(), want.size());
  p.server->flush();
  p.ioc.run();
  EXPECT_EQ(p.server->writes_started(), 1u);
  EXPECT_EQ(p.server->buffered(), 0u);
  EXPECT_EQ(p.read_peer(want.size()), want);
}

TEST(CoalescingStream, WritesCompleteAtOnceAndKeepTheirOrder) {
  Pair p;
  std::string want;
  int completed = 0;
  // 200 writes, each started from the previous one's handler, as Beast does.
  std::function<void(int)> write = [&](int i) {
    if (i == 200) return;
    auto s = std::make_shared<std::string>(numbered(i));
    want += *s;
    p.server->async_write_some(asio::buffer(*s),
                               [&, s, i](boost::system::error_code ec, std::size_t n) {
                                 EXPECT_FALSE(ec);
                                 EXPECT_EQ(n, s->size());
                                 ++completed;
                                 write(i + 1);
                               });
  };
  write(0);
  p.ioc.run();
  EXPECT_EQ(completed, 200);
  EXPECT_EQ(p.read_peer(want.size()), want);
}

TEST(CoalescingStream, WritersWaitBeyondTheHighWaterMarkUntilThePeerReads) {
  Pair p;
  p.server->set_high_water(4096);
  const std::string chunk(1024, 'x');
  std::size_t accepted = 0;
  bool blocked = false;
  // Write until a write stays pending: the peer reads nothing meanwhile, so
  // the kernel's buffers fill, then the layer's.
  std::function<void()> write = [&] {
    p.server->async_write_some(asio::buffer(chunk),
                               [&](boost::system::error_code ec, std::size_t n) {
                                 ASSERT_FALSE(ec);
                                 accepted += n;
                                 write();
                               });
  };
  write();
  for (int i = 0; i < 200 && !blocked; ++i) {
    const auto before = accepted;
    p.ioc.run_for(std::chrono::milliseconds(20));
    blocked = accepted == before && accepted > 0;
  }
  ASSERT_TRUE(blocked) << "a writer should wait once the socket and the buffer are full";
  EXPECT_FALSE(p.server->has_room());
  EXPECT_GE(p.server->buffered(), 4096u);
  // The peer reads everything accepted so far: the waiting write goes on.
  const auto before = accepted;
  std::thread reader([&] { p.read_peer(before + chunk.size()); });
  for (int i = 0; i < 500 && accepted == before; ++i) p.ioc.run_for(std::chrono::milliseconds(10));
  reader.join();
  EXPECT_GT(accepted, before);
}

TEST(CoalescingStream, ASocketErrorFailsEveryLaterWrite) {
  Pair p;
  p.peer.close();
  std::vector<boost::system::error_code> results;
  const std::string big(256 * 1024, 'y');
  std::function<void()> write = [&] {
    p.server->async_write_some(asio::buffer(big), [&](boost::system::error_code ec, std::size_t) {
      results.push_back(ec);
      if (!ec && results.size() < 100) write();
    });
  };
  write();
  p.ioc.run();
  ASSERT_FALSE(results.empty());
  EXPECT_TRUE(results.back()) << "writes to a closed peer end with an error";
  EXPECT_TRUE(p.server->error());
  EXPECT_FALSE(p.server->has_room());
  boost::system::error_code later, flushed;
  p.server->async_write_some(asio::buffer(big),
                             [&](boost::system::error_code ec, std::size_t) { later = ec; });
  p.server->async_flush([&](boost::system::error_code ec) { flushed = ec; });
  p.ioc.restart();
  p.ioc.run();
  EXPECT_EQ(later, p.server->error());
  EXPECT_EQ(flushed, p.server->error());
}

TEST(CoalescingStream, BeastWebSocketPeerReadsOwnAndBeastFramesThenTheClose) {
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();
  std::vector<std::string> received;
  boost::system::error_code client_end;
  // The client: a plain Beast WebSocket on its own thread.
  std::thread client([&] {
    asio::io_context cio;
    boost::beast::websocket::stream<tcp::socket> ws(cio);
    ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    ws.handshake("127.0.0.1", "/");
    for (;;) {
      boost::beast::flat_buffer buf;
      ws.read(buf, client_end);
      if (client_end) break;
      received.push_back(boost::beast::buffers_to_string(buf.data()));
    }
  });
  boost::beast::websocket::stream<Coalescing> ws(acceptor.accept());
  // The session's own frames (a 125-, 126- and 70000-byte payload: every
  // header form), then one message written by Beast, then the close.
  const std::vector<std::string> own = {std::string(125, 'a'), std::string(126, 'b'),
                                        std::string(70000, 'c')};
  const std::string by_beast = R"({"type":"pong"})";
  ws.async_accept([&](boost::system::error_code ec) {
    ASSERT_FALSE(ec) << ec.message();
    auto& out = ws.next_layer();
    for (const auto& m : own) {
      const auto h = http::ws_text_frame_header(m.size());
      out.append(
          std::array<asio::const_buffer, 2>{asio::buffer(h.bytes.data(), h.size), asio::buffer(m)});
    }
    out.flush();
    ws.text(true);
    ws.async_write(asio::buffer(by_beast), [&](boost::system::error_code ec, std::size_t) {
      ASSERT_FALSE(ec) << ec.message();
      ws.async_close(boost::beast::websocket::close_code::normal,
                     [](boost::system::error_code ec) { EXPECT_FALSE(ec) << ec.message(); });
    });
  });
  ioc.run();
  client.join();
  EXPECT_EQ(client_end, boost::beast::websocket::error::closed);
  ASSERT_EQ(received.size(), 4u);
  for (std::size_t i = 0; i < own.size(); ++i) EXPECT_EQ(received[i], own[i]) << i;
  EXPECT_EQ(received[3], by_beast);
}

TEST(WsTextFrameHeader, ShortestLengthForm) {
  auto bytes = [](std::uint64_t payload, bool compressed = false) {
    const auto h = http::ws_text_frame_header(payload, compressed);
    return std::vector<int>(h.bytes.begin(), h.bytes.begin() + static_cast<long>(h.size));
  };
  EXPECT_EQ(bytes(0), (std::vector<int>{0x81, 0}));
  EXPECT_EQ(bytes(125), (std::vector<int>{0x81, 125}));
  EXPECT_EQ(bytes(126), (std::vector<int>{0x81, 126, 0, 126}));
  EXPECT_EQ(bytes(65535), (std::vector<int>{0x81, 126, 0xFF, 0xFF}));
  EXPECT_EQ(bytes(65536), (std::vector<int>{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(bytes(5, true), (std::vector<int>{0xC1, 5})) << "RSV1: compressed";
}

} // namespace

// A scripted fake TWS on a real loopback socket for tws::Client tests: the
// fake runs blocking I/O on its own thread (Peer, FakeTws); the client runs
// on the test's io_context (Harness).
//
// Thread-safety: FakeTws's script runs on its own thread; everything else
// belongs to the test's thread.
#pragma once

#include "tws/client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <thread>

namespace fake_tws {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

/// Blocking helpers for the fake's side of the socket.
struct Peer {
  tcp::socket& s;

  std::string read_exact(std::size_t n) {
    std::string buf(n, '\0');
    asio::read(s, asio::buffer(buf));
    return buf;
  }
  std::string read_frame() {
    const std::string len = read_exact(4);
    const auto* p = reinterpret_cast<const unsigned char*>(len.data());
    const std::size_t n = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) |
                          (std::size_t{p[2]} << 8) | std::size_t{p[3]};
    return read_exact(n);
  }
  std::vector<std::string> read_fields() {
    const std::string frame = read_frame();
    auto f = tws::split_fields(frame);
    if (!f) return {};
    return {f->begin(), f->end()};
  }
  void write(const std::string& bytes) { asio::write(s, asio::buffer(bytes)); }

  /// The server half of a normal handshake; returns the client's startApi fields.
  std::vector<std::string> accept_session(int version = 187) {
    EXPECT_EQ(read_exact(4), std::string("API\0", 4));
    EXPECT_EQ(read_frame(), "v100..187");
    write(tws::encode_server_hello(version, "20240120 10:15:30 EST"));
    auto start = read_fields();
    write(tws::encode(tws::ManagedAccounts{"DU1234567"}));
    write(tws::encode(tws::NextValidId{1}));
    write(tws::encode(tws::ErrorMessage{-1, 2104, "Market data farm connection is OK:usfarm", ""},
                      version));
    return start;
  }
};

/// A one-connection fake TWS running `script` on its own thread.
class FakeTws {
public:
  explicit FakeTws(std::function<void(Peer&)> script)
      : acceptor_(ioc_, tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this, script = std::move(script)] {
      try {
        tcp::socket s(ioc_);
        acceptor_.accept(s);
        Peer peer{s};
        script(peer);
        // Keep the socket open until the test is done with it.
        while (!done_) std::this_thread::sleep_for(5ms);
      } catch (const std::exception& e) {
        // The client closed: fine for most scripts; say so for debugging.
        std::fprintf(stderr, "fake TWS: %s\n", e.what());
      }
    });
  }
  ~FakeTws() {
    done_ = true;
    thread_.join();
  }
  std::uint16_t port() const { return port_; }

private:
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

/// A port with nothing listening on it.
inline std::uint16_t closed_port() {
  asio::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  return a.local_endpoint().port();
}

struct Harness {
  asio::io_context ioc;
  std::shared_ptr<tws::Client> client;
  std::error_code connect_ec;
  std::string connect_detail;
  bool connect_done = false;
  std::error_code disconnect_ec;
  bool disconnected = false;
  std::vector<tws::ErrorMessage> notices;

  explicit Harness(std::vector<std::uint16_t> ports, tws::ClientConfig cfg = {}) {
    cfg.ports = std::move(ports);
    if (cfg.connect_timeout == tws::ClientConfig{}.connect_timeout) cfg.connect_timeout = 3s;
    tws::Client::Events ev;
    ev.disconnected = [this](std::error_code ec, const std::string&) {
      disconnected = true;
      disconnect_ec = ec;
    };
    ev.notice = [this](const tws::ErrorMessage& m, const tws::ErrorClass&) {
      notices.push_back(m);
    };
    client = tws::Client::create(ioc.get_executor(), cfg, ev);
  }

  void connect() {
    client->connect([this](std::error_code ec, const std::string& d) {
      connect_done = true;
      connect_ec = ec;
      connect_detail = d;
    });
    run_until([this] { return connect_done; });
  }

  /// Runs the io_context until `pred` holds (or a generous deadline).
  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      ioc.restart();
      ioc.run_for(10ms);
    }
    return true;
  }
};

} // namespace fake_tws

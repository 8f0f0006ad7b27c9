// The admin port: a line-based TCP text protocol on 127.0.0.1. Each line is
// one command of the language documented in admin_commands.hpp; each gets
// exactly one reply line ("ok ..." / "error ..."). Several clients may be
// connected; commands run one at a time on the simulator's strand.
//
// Try it: `nc 127.0.0.1 ADMIN_PORT`, then type `status`.
//
// Thread-safety: open() before the io_context runs; the rest on the strand.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace sim {

class AdminServer : public std::enable_shared_from_this<AdminServer> {
public:
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
  using Handler = std::function<std::string(const std::string& line)>;

  AdminServer(Strand strand, Handler handler);

  /// Binds 127.0.0.1:port (0 = any free port). Throws std::system_error.
  void open(std::uint16_t port);
  void stop();
  std::uint16_t port() const { return port_; }

private:
  struct Connection;

  void do_accept();
  void do_read(const std::shared_ptr<Connection>& c);

  Strand strand_;
  Handler handler_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::weak_ptr<Connection>> connections_;
  bool stopped_ = false;
};

} // namespace sim

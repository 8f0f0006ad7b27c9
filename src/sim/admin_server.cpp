#include "sim/admin_server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace sim {
namespace {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
/// A command line is short; anything longer is not the admin language.
constexpr std::size_t kMaxLine = 64 * 1024;
} // namespace

struct AdminServer::Connection {
  explicit Connection(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
  std::string input;
  std::string reply;
  std::uint64_t id = 0;
};

AdminServer::AdminServer(Strand strand, Handler handler)
    : strand_(std::move(strand)), handler_(std::move(handler)), acceptor_(strand_) {}

void AdminServer::open(std::uint16_t port) {
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  asio::dispatch(strand_, [self = shared_from_this()] { self->do_accept(); });
}

void AdminServer::do_accept() {
  if (stopped_) return;
  acceptor_.async_accept(
      strand_, [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
        if (self->stopped_) return;
        if (ec) {
          spdlog::warn("admin accept failed: {}", ec.message());
        } else {
          auto c = std::make_shared<Connection>(std::move(socket));
          c->id = self->next_id_++;
          self->connections_[c->id] = c;
          self->do_read(c);
        }
        self->do_accept();
      });
}

void AdminServer::do_read(const std::shared_ptr<Connection>& c) {
  asio::async_read_until(
      c->socket, asio::dynamic_buffer(c->input, kMaxLine), '\n',
      [self = shared_from_this(), c](boost::system::error_code ec, std::size_t n) {
        if (ec || self->stopped_) {
          // EOF, a line over the cap, or shutdown: this admin client is done.
          self->connections_.erase(c->id);
          boost::system::error_code ignored;
          c->socket.close(ignored);
          return;
        }
        std::string line = c->input.substr(0, n - 1);
        c->input.erase(0, n);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        std::string reply = self->handler_(line);
        // A reply is always exactly one line.
        for (char& ch : reply)
          if (ch == '\n' || ch == '\r') ch = ' ';
        c->reply = std::move(reply);
        c->reply.push_back('\n');
        asio::async_write(c->socket, asio::buffer(c->reply),
                          [self, c](boost::system::error_code wec, std::size_t) {
                            if (wec) {
                              self->connections_.erase(c->id);
                              return;
                            }
                            self->do_read(c);
                          });
      });
}

void AdminServer::stop() {
  stopped_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (auto& [id, weak] : connections_)
    if (auto c = weak.lock()) c->socket.close(ignored);
  connections_.clear();
}

} // namespace sim

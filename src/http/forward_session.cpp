#include "http/forward_session.hpp"

#include "http/response.hpp"
#include "http/scaleout.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace http {

namespace {

/// No piece for this long, or a client that takes none: the connection goes.
constexpr auto kStall = std::chrono::seconds(30);

class ForwardSession : public std::enable_shared_from_this<ForwardSession> {
public:
  ForwardSession(beast::tcp_stream stream, std::shared_ptr<ServerState> state, std::string target,
                 std::string origin, std::string log_line)
      : stream_(std::move(stream)), state_(std::move(state)), target_(std::move(target)),
        origin_(std::move(origin)), log_line_(std::move(log_line)),
        id_(state_->scaleout->new_transfer_id()) {}

  void start() { ask(target_); }

private:
  void ask(const std::string& target) {
    state_->scaleout->forward(
        id_, target, origin_, [self = shared_from_this()](stream::ForwardChunk c) {
          asio::post(self->stream_.get_executor(),
                     [self, c = std::move(c)]() mutable { self->on_piece(std::move(c)); });
        });
  }

  void on_piece(stream::ForwardChunk c) {
    if (!c.ok) {
      spdlog::warn("{}: forwarded to the publisher: {}", log_line_, c.error);
      if (written_ > 0) return close(); // a broken answer: the client sees it cut
      Response r =
          error_response(503, "TWS_UNAVAILABLE",
                         "History is kept by the publisher, which did not answer: " + c.error,
                         "Retry in a few seconds.");
      r.headers.emplace_back("Retry-After", "2");
      for (auto& h : state_->cors.headers(origin_)) r.headers.push_back(h);
      piece_ = serialize_response(r, false);
      last_ = true;
    } else {
      piece_ = std::move(c.data);
      last_ = c.last;
    }
    stream_.expires_after(kStall);
    asio::async_write(stream_, asio::buffer(piece_),
                      [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                        self->written_ += n;
                        if (ec || self->last_) return self->close();
                        self->ask({}); // the next piece, now that this one is out
                      });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    stream_.close();
    spdlog::info("{}: forwarded to the publisher, {} bytes", log_line_, written_);
  }

  beast::tcp_stream stream_;
  std::shared_ptr<ServerState> state_;
  std::string target_, origin_, log_line_, id_;
  std::string piece_;
  bool last_ = false;
  std::size_t written_ = 0;
};

} // namespace

void start_forward_session(beast::tcp_stream stream, std::shared_ptr<ServerState> state,
                           std::string target, std::string origin, std::string log_line) {
  std::make_shared<ForwardSession>(std::move(stream), std::move(state), std::move(target),
                                   std::move(origin), std::move(log_line))
      ->start();
}

} // namespace http

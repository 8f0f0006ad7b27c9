#include "http/history_session.hpp"

#include "http/history_format.hpp"
#include "http/server_log.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <atomic>

namespace http {
namespace asio = boost::asio;
namespace beast = boost::beast;
using namespace std::chrono_literals;

namespace {

/// A client that takes longer than this to accept one piece is gone.
constexpr auto kWriteTimeout = 30s;
/// After the last byte: how long the client may take to close its end.
constexpr auto kLinger = 2s;

} // namespace

// ---------------------------------------------------------------- RecordSession

RecordSession::RecordSession(beast::tcp_stream stream, std::shared_ptr<ServerState> state,
                             Request request)
    : stream_(std::move(stream)), executor_(stream_.get_executor()), state_(std::move(state)),
      request_(std::move(request)), close_timer_(executor_) {
  stream_.expires_never();
  ++state_->open_record_sessions;
}

RecordSession::~RecordSession() {
  --state_->open_record_sessions;
  state_->history_workers.release();
}

std::string RecordSession::head(int status, std::string_view content_type,
                                std::string_view extra) const {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " +
                    std::string(reason_phrase(status)) + "\r\nServer: ib-stream\r\nContent-Type: ";
  out += content_type;
  out += "\r\nConnection: close\r\n";
  for (const auto& [name, value] : state_->cors.headers(request_.origin)) {
    out += name + ": " + value;
    // A page's cursor is in headers (ndjson, csv): a browser may read them.
    if (name == "Access-Control-Expose-Headers") out += ", X-Next-Cursor, Link";
    out += "\r\n";
  }
  out += extra;
  out += "\r\n";
  return out;
}

void RecordSession::respond_error(const ApiError& e, std::string_view retry_after) {
  Response r = error_response(e.status, e.code, e.message, e.details);
  r.headers = state_->cors.headers(request_.origin);
  if (!retry_after.empty()) r.headers.emplace_back("Retry-After", std::string(retry_after));
  log(e.status, e.code);
  finishing_ = true;
  write(serialize_response(r, false));
}

void RecordSession::log(int status, std::string_view note) const {
  log_access({request_.method, request_.path, request_.query, status, ms_since(request_.received),
              request_.remote, note});
}

void RecordSession::watch_client() {
  stream_.socket().async_read_some(asio::buffer(read_buffer_),
                                   [self = shared_from_this()](boost::system::error_code ec,
                                                               std::size_t) { self->on_read(ec); });
}

void RecordSession::on_read(boost::system::error_code ec) {
  if (closed_) return;
  if (!ec) return watch_client();                        // a client sends nothing more: ignored
  if (finishing_ && !write_pending_) return close_now(); // it closed after the last byte
  on_client_gone();
  close_now();
}

void RecordSession::write(std::string bytes) {
  if (closed_) return;
  writing_ = std::move(bytes);
  write_pending_ = true;
  stream_.expires_after(kWriteTimeout);
  asio::async_write(stream_, asio::buffer(writing_),
                    [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                      self->write_pending_ = false;
                      if (self->closed_) return;
                      if (ec) {
                        self->on_client_gone();
                        return self->close_now();
                      }
                      if (self->writing_.capacity() > 2 * kRecordPieceBytes)
                        std::string().swap(self->writing_);
                      if (self->finishing_) return self->finish();
                      self->on_written();
                    });
}

void RecordSession::finish() {
  finishing_ = true;
  if (write_pending_ || closed_) return; // the write's completion comes back here
  boost::system::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  close_timer_.expires_after(kLinger);
  close_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->close_now();
  });
}

void RecordSession::close_now() {
  if (closed_) return;
  closed_ = true;
  close_timer_.cancel();
  stream_.close();
}

// ---------------------------------------------------------------- helpers

bool contract_recorded(const store::Store& store, int con_id) {
  for (auto t : {tws::TickType::last, tws::TickType::all_last, tws::TickType::bid_ask,
                 tws::TickType::mid_point})
    if (store.last_recorded(con_id, t)) return true;
  return false;
}

ApiError nothing_recorded(int con_id, bool edge) {
  if (edge)
    return ApiError{404, "CONTRACT_NOT_FOUND",
                    "nothing recorded for contract " + std::to_string(con_id) +
                        ": this server is a scale-out edge, which keeps no record",
                    "Ask the publisher (the node with --role publisher) for history and replay"};
  return ApiError{404, "CONTRACT_NOT_FOUND",
                  "nothing recorded for contract " + std::to_string(con_id),
                  "Only tracked streams are recorded; GET /history/{contract_id} shows what is"};
}

namespace {

// ---------------------------------------------------------------- HistorySession

/// The reading side of one history response; one worker task at a time.
struct HistoryProducer {
  std::shared_ptr<store::Store> store;
  HistoryRequest req;
  std::optional<store::Position> pos; // the last row given (or the cursor's)
  std::size_t given = 0;              // rows given in this page
  std::size_t page_rows = 0;          // ndjson/csv: the rows of this page (counted first)
  std::optional<std::string> next;    // the cursor of the next page, if there is one
  bool done = false;
  std::atomic<bool> cancelled{false};

  store::Query query(std::size_t limit) const {
    store::Query q;
    q.con_id = req.contract_id;
    q.tick_type = req.tick_type;
    q.start_ms = req.start_ms;
    q.end_ms = req.end_ms;
    q.after = pos;
    q.limit = limit;
    return q;
  }
  std::string cursor_after(store::Position p) const {
    return encode_cursor({req.contract_id, req.tick_type, req.start_ms, req.end_ms, p});
  }

  /// ndjson and csv carry `next` in a header: the page is counted first
  /// (positions only), so the header is known before the body.
  void count_page() {
    std::optional<store::Position> last;
    std::size_t n = 0;
    auto q = query(req.limit + 1);
    q.keys_only = true; // positions only: the rows themselves are read for the body
    store->read(q, [&](const store::TickRecord& r) {
      if (cancelled) return false;
      if (++n <= req.limit) last = store::Position{r.seq, r.sub};
      return true;
    });
    page_rows = std::min(n, req.limit);
    if (n > req.limit && last) next = cursor_after(*last);
  }

  /// The next piece of the body: about kRecordPieceBytes, chunk-framed; the
  /// last one ends the chunked body.
  std::string piece(std::string body) {
    const bool json = req.format == HistoryFormat::json;
    // json looks one row beyond the page: whether there is a next page.
    const std::size_t want = json ? req.limit + 1 - given : page_rows - given;
    bool full = false, beyond = false;
    if (want > 0)
      store->read(query(want), [&](const store::TickRecord& r) {
        if (cancelled) return false;
        if (json && given == req.limit) {
          next = cursor_after(*pos);
          beyond = true;
          return false;
        }
        switch (req.format) {
        case HistoryFormat::json:
          if (given > 0) body += ',';
          append_record_json(body, r);
          break;
        case HistoryFormat::ndjson:
          append_record_json(body, r);
          body += '\n';
          break;
        case HistoryFormat::csv: append_csv_row(body, r); break;
        }
        pos = store::Position{r.seq, r.sub};
        ++given;
        full = body.size() >= kRecordPieceBytes;
        return !full;
      });
    done = beyond || !full || (!json && given >= page_rows);
    if (done && json) append_history_json_tail(body, next);
    std::string out;
    out.reserve(body.size() + 32);
    append_chunk(out, body);
    if (done) out += kLastChunk;
    return out;
  }
};

class HistorySession final : public RecordSession {
public:
  HistorySession(beast::tcp_stream stream, std::shared_ptr<ServerState> state, Request request,
                 HistoryRequest history)
      : RecordSession(std::move(stream), std::move(state), std::move(request)),
        producer_(std::make_shared<HistoryProducer>()) {
    producer_->store = state_->store;
    producer_->req = std::move(history);
    producer_->pos = producer_->req.after;
  }

  void start() override {
    watch_client();
    auto weak = weak_self();
    state_->history_workers.post([p = producer_, weak, ex = executor_] {
      std::optional<ApiError> error;
      std::string first;
      try {
        if (!contract_recorded(*p->store, p->req.contract_id)) {
          error = nothing_recorded(p->req.contract_id);
        } else {
          if (p->req.format != HistoryFormat::json) p->count_page();
          std::string body;
          if (p->req.format == HistoryFormat::json) append_history_json_head(body, p->req);
          if (p->req.format == HistoryFormat::csv) append_csv_header(body, p->req.tick_type);
          first = p->piece(std::move(body));
        }
      } catch (const std::exception& e) {
        spdlog::error("history {}/{}: {}", p->req.contract_id, tws::to_string(p->req.tick_type),
                      e.what());
        error = ApiError{500, "INTERNAL_ERROR", "Reading the record failed", ""};
      }
      asio::post(ex, [weak, error = std::move(error), first = std::move(first)]() mutable {
        if (auto self = weak.lock()) self->on_open(std::move(error), std::move(first));
      });
    });
  }

private:
  std::weak_ptr<HistorySession> weak_self() {
    return std::static_pointer_cast<HistorySession>(shared_from_this());
  }

  void on_open(std::optional<ApiError> error, std::string first) {
    if (closed()) return;
    if (error) return respond_error(*error);
    const auto& req = producer_->req;
    std::string extra = "Transfer-Encoding: chunked\r\nCache-Control: no-store\r\n";
    if (req.format != HistoryFormat::json && producer_->next) {
      extra += "X-Next-Cursor: " + *producer_->next + "\r\n";
      extra += "Link: <" + request_.path + "?cursor=" + *producer_->next +
               "&format=" + std::string(to_string(req.format)) +
               "&limit=" + std::to_string(req.limit) + ">; rel=\"next\"\r\n";
    }
    const char* type = req.format == HistoryFormat::json     ? "application/json"
                       : req.format == HistoryFormat::ndjson ? "application/x-ndjson"
                                                             : "text/csv; charset=utf-8";
    log(200, "history " + std::string(to_string(req.format)));
    send(head(200, type, extra) + first, producer_->done);
  }

  void send(std::string bytes, bool last) {
    last_sent_ = last;
    write(std::move(bytes));
    if (!last) produce(); // the next piece is read while this one is written
  }

  void produce() {
    producing_ = true;
    auto weak = weak_self();
    state_->history_workers.post([p = producer_, weak, ex = executor_] {
      std::string piece;
      bool failed = false;
      try {
        piece = p->piece({});
      } catch (const std::exception& e) {
        spdlog::error("history {}/{}: {}", p->req.contract_id, tws::to_string(p->req.tick_type),
                      e.what());
        failed = true;
      }
      const bool done = p->done;
      asio::post(ex, [weak, piece = std::move(piece), done, failed]() mutable {
        if (auto self = weak.lock()) self->on_piece(std::move(piece), done, failed);
      });
    });
  }

  void on_piece(std::string piece, bool done, bool failed) {
    producing_ = false;
    if (closed()) return;
    if (failed) return close_now(); // the body ends without its last chunk: the client sees it
    if (write_pending()) {
      ready_ = std::move(piece);
      ready_last_ = done;
      return;
    }
    send(std::move(piece), done);
  }

  void on_written() override {
    if (ready_) {
      std::string piece = std::move(*ready_);
      ready_.reset();
      return send(std::move(piece), ready_last_);
    }
    if (last_sent_) return finish();
  }

  void on_client_gone() override { producer_->cancelled = true; }

  std::shared_ptr<HistoryProducer> producer_;
  std::optional<std::string> ready_; // a piece read while the previous one was written
  bool ready_last_ = false;
  bool last_sent_ = false;
  bool producing_ = false;
};

} // namespace

void start_history_session(beast::tcp_stream stream, std::shared_ptr<ServerState> state,
                           RecordSession::Request request, HistoryRequest history) {
  std::make_shared<HistorySession>(std::move(stream), std::move(state), std::move(request),
                                   std::move(history))
      ->start();
}

void start_history_summary(std::shared_ptr<ServerState> state, int con_id,
                           asio::any_io_executor executor, std::function<void(Response)> done) {
  auto store = state->store;
  state->history_workers.post([store, con_id, executor, done = std::move(done)]() mutable {
    Response r;
    try {
      auto streams = store->summary(con_id);
      if (streams.empty()) {
        const ApiError e = nothing_recorded(con_id);
        r = error_response(e.status, e.code, e.message, e.details);
      } else {
        r = Response{200,
                     history_summary_json(con_id, streams, store->gaps(con_id)),
                     "application/json",
                     {}};
      }
    } catch (const std::exception& e) {
      spdlog::error("history summary {}: {}", con_id, e.what());
      r = error_response(500, "INTERNAL_ERROR", "Reading the record failed", "");
    }
    asio::post(executor,
               [r = std::move(r), done = std::move(done)]() mutable { done(std::move(r)); });
  });
}

} // namespace http

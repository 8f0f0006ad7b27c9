#include "http/delta_session.hpp"

#include "http/event_loops.hpp"
#include "http/response.hpp"
#include "http/server_log.hpp"
#include "stream/json_writer.hpp"
#include "stream/sse_events.hpp"
#include "stream/tick_json.hpp"
#include "studies/study_output.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace http {
namespace asio = boost::asio;
namespace beast = boost::beast;
using namespace std::chrono_literals;

namespace {

/// Output read from the logs (or the record) before it is written.
constexpr std::size_t kBatchBytes = 256 * 1024;
/// Rows of the record per tick type and read.
constexpr std::size_t kPageRows = 2000;
/// Held live ticks are applied this long after the first of them arrived
/// (ib-studies' flush delay, studies_main.cpp).
constexpr auto kFlushDelay = 20ms;

stream::ClientStream::Options client_options(const ServerConfig& c) {
  stream::ClientStream::Options o;
  o.window = static_cast<std::size_t>(c.buffer_size);
  o.slow_after = std::chrono::seconds(c.slow_consumer_seconds);
  return o;
}

/// The `data:` JSON of a log's SSE tick frame ("id: n\ndata: {...}\n\n").
std::string_view frame_json(std::string_view frame) {
  const auto at = frame.find("data: ");
  if (at == std::string_view::npos) return {};
  frame.remove_prefix(at + 6);
  return frame.substr(0, frame.find('\n'));
}

/// A recorded tick as the studies read it: the tick event GET /replay sends.
bool record_event(const store::TickRecord& r, std::string_view iso, studies::StreamEvent& ev) {
  std::string data;
  std::visit([&](const auto& t) { stream::append_tick_json(data, t); }, r.tick);
  std::string error;
  return studies::parse_stream_event(stream::tick_event_json(r.con_id, iso, data), ev, error);
}

} // namespace

DeltaSession::DeltaSession(beast::tcp_stream stream, std::shared_ptr<ServerState> state,
                           Request request)
    : stream_(std::move(stream)), executor_(stream_.get_executor()), state_(std::move(state)),
      request_(std::move(request)),
      lanes_{{Lane(*this, tws::TickType::bid_ask, client_options(state_->config)),
              Lane(*this, tws::TickType::last, client_options(state_->config))}},
      timeout_timer_(executor_), timer_(executor_), close_timer_(executor_),
      flush_timer_(executor_), last_write_(std::chrono::steady_clock::now()) {
  stream_.expires_never();
  ++state_->open_streams;
}

DeltaSession::~DeltaSession() {
  for (auto& l : lanes_) l.client.detach();
  if (phase_ != State::closed) --state_->open_streams;
}

void DeltaSession::start() {
  do_read();
  auto self = shared_from_this();
  for (auto& lane : lanes_) {
    stream::OpenRequest req;
    req.con_id = request_.delta.contract_id;
    req.tick_type = lane.type;
    req.transport = "sse";
    req.remote = request_.remote;
    req.timeout_seconds = request_.delta.timeout_seconds;
    req.loop = &event_loop_of(executor_);
    state_->hub->open(std::move(req), self, [self, l = &lane](stream::OpenResult r) {
      asio::post(self->executor_,
                 [self, l, r = std::move(r)]() mutable { self->on_open(*l, std::move(r)); });
    });
  }
}

void DeltaSession::end(stream::EndReason reason, const std::optional<stream::Notice>& why) {
  asio::post(executor_, [self = shared_from_this(), reason, why] { self->on_end(reason, why); });
}

// Our event loop from here on.

void DeltaSession::on_open(Lane& lane, stream::OpenResult r) {
  lane.answered = true;
  if (r.error) {
    if (!refusal_) refusal_ = *r.error;
  } else {
    lane.stream_id = r.stream_id;
    lane.in_hub = true;
    contract_ = r.contract;
    // Placed now, at the log's head: the ticks from here on are kept for
    // this client (within the log's memory) while the record is read.
    std::string ignored;
    lane.client.start(r, ignored);
  }
  for (const auto& l : lanes_)
    if (!l.answered) return;
  if (phase_ == State::closed) return leave_hub(); // the client left meanwhile
  if (refusal_) {
    leave_hub();
    return refuse(*refusal_);
  }
  open_both();
}

void DeltaSession::open_both() {
  const auto& req = request_.delta;
  using namespace std::chrono;
  std::optional<std::int64_t> since_ms;
  if (req.duration_seconds)
    since_ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count() -
               *req.duration_seconds * 1000;
  out_ = "HTTP/1.1 200 OK\r\nServer: ib-stream\r\nContent-Type: text/event-stream\r\n"
         "Cache-Control: no-cache, no-transform\r\nX-Accel-Buffering: no\r\n"
         "Connection: close\r\n";
  for (const auto& [name, value] : state_->cors.headers(request_.origin))
    out_ += name + ": " + value + "\r\n";
  out_ += "\r\n";
  out_ += stream::sse_retry(3000);
  std::string members;
  {
    const auto window = studies::MultiDeltaConfig{}.window_seconds;
    stream::JsonWriter w(members);
    w.begin_object().member("code", "started").member("study", "multi_delta");
    w.member("window_seconds", window).member("neutral_zone_pct", 0.0);
    w.key("tick_types").begin_array().string("BidAsk").string("Last").end_array();
    w.key("contract");
    stream::write_contract(w, contract_);
    w.key("history_from");
    if (since_ms) w.string(stream::format_iso_ms(*since_ms));
    else w.null();
    w.end_object();
  }
  // The members of the info object, without its braces.
  append_info(out_, "started", "multi-delta stream started",
              std::string_view(members).substr(1, members.size() - 2));
  log_access({request_.method, request_.path, request_.query, 200, ms_since(request_.received),
              request_.remote,
              "sse delta " + std::to_string(req.contract_id) + " #" +
                  std::to_string(lanes_[1].stream_id)});
  timeout_timer_.expires_after(std::chrono::seconds(req.timeout_seconds));
  timeout_timer_.async_wait(
      [self = shared_from_this()](boost::system::error_code ec) { self->on_timeout(ec); });
  arm_timer();
  if (since_ms && state_->store) {
    for (auto& l : lanes_)
      l.history.emplace(state_, req.contract_id, l.type, std::nullopt, since_ms);
    phase_ = State::history;
    pump();
    return;
  }
  go_live();
}

void DeltaSession::refuse(const stream::OpenError& e) {
  Response r = error_response(e.status, e.code, e.message, e.details);
  r.headers = state_->cors.headers(request_.origin);
  if (e.retry_after_s > 0) r.headers.emplace_back("Retry-After", std::to_string(e.retry_after_s));
  log_access({request_.method, request_.path, request_.query, e.status, ms_since(request_.received),
              request_.remote, e.code});
  end_reason_ = "refused: " + e.code;
  phase_ = State::refused;
  out_ += serialize_response(r, false);
  pump();
}

// ------------------------------------------------------------ the record

void DeltaSession::history_next() {
  if (phase_ != State::history || write_pending_ || !out_.empty()) return;
  bool waiting = false;
  for (auto& l : lanes_) {
    if (l.history->fetching()) waiting = true;
    else if (l.rows.empty() && !l.exhausted) {
      waiting = true;
      l.history->fetch(executor_, kPageRows,
                       [self = shared_from_this(), l = &l](std::vector<store::TickRecord> rows) {
                         self->on_history_page(*l, kPageRows, std::move(rows));
                       });
    }
  }
  if (waiting) return;
  // Both lanes have rows, or none left: merged in time order (IB time, then
  // receive time, then BidAsk before Last), as GET /replay merges them.
  char iso[32];
  while (out_.size() < kBatchBytes && !limit_reached()) {
    Lane* best = nullptr;
    bool blocked = false;
    for (auto& l : lanes_) {
      if (l.rows.empty()) {
        if (!l.exhausted) blocked = true; // its next page may hold an earlier tick
        continue;
      }
      const auto& r = l.rows.front();
      if (!best || r.ib_time < best->rows.front().ib_time ||
          (r.ib_time == best->rows.front().ib_time && r.recv_us < best->rows.front().recv_us))
        best = &l;
    }
    if (blocked || !best) break;
    studies::StreamEvent ev;
    if (record_event(best->rows.front(), stream::iso_now(iso), ev))
      feed_.apply_now(std::move(ev), fed_);
    best->rows.pop_front();
    emit(out_, "record");
  }
  if (limit_reached()) return finish("limit_reached");
  bool done = true;
  for (const auto& l : lanes_) done = done && l.rows.empty() && l.exhausted;
  if (done) return go_live();
  pump();
}

void DeltaSession::on_history_page(Lane& lane, std::size_t asked,
                                   std::vector<store::TickRecord> rows) {
  if (phase_ != State::history) return;
  lane.exhausted = rows.size() < asked;
  lane.progress = !rows.empty();
  for (auto& r : rows) lane.rows.push_back(std::move(r));
  history_next();
}

void DeltaSession::go_live() {
  for (auto& l : lanes_) {
    if (!l.history || !l.history->last()) continue;
    const auto missing = l.client.go_live_after(l.history->last()->seq);
    if (missing > 0 && l.progress) {
      // The log has moved past what the record held a moment ago: the
      // recorder has written more since; read on.
      l.exhausted = false;
      return history_next();
    }
    if (missing > 0) l.client.announce_lost(out_, missing);
  }
  if (lanes_[0].history) {
    append_info(out_, "live", "the record is read: live from here",
                "\"code\":\"live\",\"record_trades\":" + std::to_string(record_trades_));
  }
  phase_ = State::streaming;
  for (auto& l : lanes_) l.client.attach(this);
  pump();
}

// ------------------------------------------------------------ live

void DeltaSession::Lane::tick(std::string& out, const stream::LogEntry& e, stream::LogCursor&,
                              std::uint64_t) {
  session.on_live_tick(out, e);
}

void DeltaSession::Lane::notice(std::string& out, const stream::LogEntry& e) { out += e.sse; }

void DeltaSession::Lane::info(std::string& out, std::string_view code, std::string_view message,
                              std::string_view extra_json) {
  std::string members = "\"code\":";
  stream::append_json_string(members, code);
  members += ",\"tick_type\":";
  stream::append_json_string(members, tws::to_string(type));
  if (!extra_json.empty()) {
    members += ',';
    members += extra_json;
  }
  session.append_info(out, code, message, members);
}

void DeltaSession::Lane::error(std::string& out, std::string_view code, std::string_view message,
                               std::string_view details) {
  session.append_error(out, code, message, details);
}

void DeltaSession::on_live_tick(std::string& out, const stream::LogEntry& e) {
  studies::StreamEvent ev;
  std::string error;
  if (!studies::parse_stream_event(frame_json(e.sse), ev, error)) {
    spdlog::warn("delta stream {}: a tick the study cannot read: {}", request_.delta.contract_id,
                 error);
    return;
  }
  feed_.push(std::move(ev), fed_);
  emit(out, "live");
}

void DeltaSession::emit(std::string& out, std::string_view source) {
  for (const auto& t : fed_) {
    if (limit_reached()) break;
    std::string json;
    stream::JsonWriter w(json);
    w.begin_object()
        .member("type", "trade")
        .member("contract_id", request_.delta.contract_id)
        .member("timestamp", t.event_timestamp)
        .member("source", source)
        .key("data")
        .raw(studies::format_trade_json(t.result, request_.delta.contract_id, t.event_timestamp))
        .end_object()
        .flush();
    out += stream::sse_frame(std::nullopt, json);
    ++trades_sent_;
    if (source == "record") ++record_trades_;
  }
  fed_.clear();
}

bool DeltaSession::limit_reached() const {
  return request_.delta.limit && trades_sent_ >= static_cast<std::uint64_t>(*request_.delta.limit);
}

void DeltaSession::read_live() {
  const auto now = std::chrono::steady_clock::now();
  for (auto& l : lanes_) l.client.read(out_, kBatchBytes, now);
  if (limit_reached()) return finish("limit_reached");
  if (feed_.holding()) arm_flush();
  for (auto& l : lanes_)
    if (l.client.behind() && l.client.slow(now)) return slow_consumer();
}

void DeltaSession::arm_flush() {
  if (flush_armed_) return;
  flush_armed_ = true;
  flush_timer_.expires_after(kFlushDelay);
  flush_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    self->flush_armed_ = false;
    if (ec || self->phase_ != State::streaming) return;
    self->feed_.flush(self->fed_);
    self->emit(self->out_, "live");
    if (self->limit_reached()) return self->finish("limit_reached");
    self->pump();
  });
}

void DeltaSession::on_log_advanced() {
  if (phase_ == State::streaming && !write_pending_) pump();
}

// ------------------------------------------------------------ events

void DeltaSession::append_info(std::string& out, std::string_view, std::string_view message,
                               std::string_view members) {
  std::string json;
  stream::JsonWriter w(json);
  w.begin_object()
      .member("type", "info")
      .member("contract_id", request_.delta.contract_id)
      .member("timestamp", stream::iso_now())
      .key("info")
      .begin_object()
      .member("message", message)
      .raw_members(members)
      .end_object()
      .end_object()
      .flush();
  out += stream::sse_frame(std::nullopt, json);
}

void DeltaSession::append_error(std::string& out, std::string_view code, std::string_view message,
                                std::string_view details) {
  if (error_sent_) return;
  error_sent_ = true;
  out += stream::sse_frame(std::nullopt,
                           stream::error_event_json(request_.delta.contract_id, stream::iso_now(),
                                                    code, message, details));
}

} // namespace http

#include "http/replay_session.hpp"

#include "http/history_format.hpp"
#include "stream/json_writer.hpp"
#include "stream/sse_events.hpp"
#include "stream/tick_json.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <deque>

namespace http {
namespace asio = boost::asio;
namespace beast = boost::beast;
using namespace std::chrono_literals;

namespace {

/// Rows read per tick type and worker task.
constexpr std::size_t kLanePage = 256;
/// Ticks per piece, at most.
constexpr std::size_t kPieceTicks = 2048;
/// Fewer ticks than this waiting: the next piece is asked for.
constexpr std::size_t kLowWater = 256;
/// Output not yet handed to the socket, at most (then due ticks wait).
constexpr std::size_t kOutCap = 256 * 1024;
/// The session looks at the clock (shutdown, keep-alive) at least this often.
constexpr auto kTick = 250ms;

struct ReplayItem {
  std::int64_t ib_time = 0;
  std::string data; // the tick object + seq + source
};

/// The reading side of one replay: a page per tick type, merged in time
/// order. One worker task at a time.
struct ReplayProducer {
  struct Lane {
    tws::TickType type;
    std::deque<store::TickRecord> rows;
    std::optional<store::Position> pos;
    bool exhausted = false;
  };

  std::shared_ptr<store::Store> store;
  ReplayRequest req;
  std::vector<Lane> lanes;
  bool done = false;
  std::atomic<bool> cancelled{false};

  void refill(Lane& l) {
    if (!l.rows.empty() || l.exhausted) return;
    store::Query q;
    q.con_id = req.contract_id;
    q.tick_type = l.type;
    q.start_ms = req.start_ms;
    q.end_ms = req.end_ms;
    q.after = l.pos;
    q.limit = kLanePage;
    const auto n = store->read(q, [&](const store::TickRecord& r) {
      if (cancelled) return false;
      l.rows.push_back(r);
      return true;
    });
    if (n < kLanePage) l.exhausted = true;
    if (!l.rows.empty()) l.pos = store::Position{l.rows.back().seq, l.rows.back().sub};
  }

  std::vector<ReplayItem> piece() {
    std::vector<ReplayItem> out;
    std::size_t bytes = 0;
    while (bytes < kRecordPieceBytes && out.size() < kPieceTicks && !cancelled) {
      Lane* best = nullptr;
      for (auto& l : lanes) { // lanes in the order of tick_types: the tie-break
        refill(l);
        if (l.rows.empty()) continue;
        const auto& r = l.rows.front();
        if (!best || r.ib_time < best->rows.front().ib_time ||
            (r.ib_time == best->rows.front().ib_time && r.recv_us < best->rows.front().recv_us))
          best = &l;
      }
      if (!best) {
        done = true;
        break;
      }
      ReplayItem item{best->rows.front().ib_time, {}};
      append_record_json(item.data, best->rows.front());
      best->rows.pop_front();
      bytes += item.data.size();
      out.push_back(std::move(item));
    }
    return out;
  }
};

class ReplaySession final : public RecordSession {
public:
  ReplaySession(beast::tcp_stream stream, std::shared_ptr<ServerState> state, Request request,
                ReplayRequest replay)
      : RecordSession(std::move(stream), std::move(state), std::move(request)), timer_(executor_),
        producer_(std::make_shared<ReplayProducer>()) {
    producer_->store = state_->store;
    producer_->req = std::move(replay);
    for (auto t : producer_->req.tick_types) producer_->lanes.push_back({t, {}, {}, false});
  }

  void start() override {
    watch_client();
    auto weak = weak_self();
    producing_ = true;
    state_->history_workers.post(
        [p = producer_, weak, ex = executor_, edge = is_edge(state_->config)] {
          std::optional<ApiError> error;
          std::vector<ReplayItem> items;
          try {
            if (!contract_recorded(*p->store, p->req.contract_id))
              error = nothing_recorded(p->req.contract_id, edge);
            else items = p->piece();
          } catch (const std::exception& e) {
            spdlog::error("replay {}: {}", p->req.contract_id, e.what());
            error = ApiError{500, "INTERNAL_ERROR", "Reading the record failed", ""};
          }
          asio::post(ex, [weak, error = std::move(error), items = std::move(items),
                          done = p->done]() mutable {
            if (auto self = weak.lock()) self->on_open(std::move(error), std::move(items), done);
          });
        });
  }

private:
  std::weak_ptr<ReplaySession> weak_self() {
    return std::static_pointer_cast<ReplaySession>(shared_from_this());
  }
  const ReplayRequest& req() const { return producer_->req; }

  void on_open(std::optional<ApiError> error, std::vector<ReplayItem> items, bool done) {
    producing_ = false;
    if (closed()) return;
    if (error) return respond_error(*error);
    log(200, "replay");
    out_ = head(200, "text/event-stream",
                "Cache-Control: no-cache, no-transform\r\nX-Accel-Buffering: no\r\n");
    out_ += stream::sse_retry(3000);
    out_ += stream::sse_frame(std::nullopt, info_json());
    on_items(std::move(items), done);
  }

  std::string info_json() const {
    std::string out;
    stream::JsonWriter w(out);
    char now[32], start[32], end[32];
    std::string types;
    for (auto t : req().tick_types) types += (types.empty() ? "" : ",") + std::string(to_string(t));
    w.begin_object()
        .member("type", "info")
        .member("contract_id", req().contract_id)
        .member("timestamp", stream::iso_now(now))
        .key("info")
        .begin_object()
        .member("message", "replay of " + types + " from " +
                               std::string(stream::format_iso_ms(start, req().start_ms)) + " to " +
                               std::string(stream::format_iso_ms(end, req().end_ms)))
        .member("code", "replay")
        .member("stream_id", "replay:" + std::to_string(req().contract_id))
        .key("tick_types")
        .begin_array();
    for (auto t : req().tick_types) w.string(to_string(t));
    w.end_array().member("start", start).member("end", end);
    if (req().speed == 0) w.member("speed", "max");
    else w.member("speed", req().speed);
    w.end_object().end_object();
    w.flush();
    return out;
  }

  void produce() {
    producing_ = true;
    auto weak = weak_self();
    state_->history_workers.post([p = producer_, weak, ex = executor_] {
      std::vector<ReplayItem> items;
      bool failed = false;
      try {
        items = p->piece();
      } catch (const std::exception& e) {
        spdlog::error("replay {}: {}", p->req.contract_id, e.what());
        failed = true;
      }
      asio::post(ex, [weak, items = std::move(items), done = p->done, failed]() mutable {
        auto self = weak.lock();
        if (!self) return;
        if (failed) return self->fail();
        self->on_items(std::move(items), done);
      });
    });
  }

  void on_items(std::vector<ReplayItem> items, bool done) {
    producing_ = false;
    done_producing_ = done;
    for (auto& i : items) items_.push_back(std::move(i));
    pump();
  }

  void fail() {
    producing_ = false;
    done_producing_ = true;
    items_.clear();
    out_ += stream::sse_frame(
        std::nullopt, stream::error_event_json(req().contract_id, stream::iso_now(),
                                               "INTERNAL_ERROR", "Reading the record failed", ""));
    completed_ = true;
    pump();
  }

  std::chrono::steady_clock::time_point due(const ReplayItem& i) const {
    const double seconds = static_cast<double>(i.ib_time - first_time_) / req().speed;
    return started_ + std::chrono::microseconds(static_cast<std::int64_t>(seconds * 1e6));
  }

  void pump() {
    if (closed()) return;
    const auto now = std::chrono::steady_clock::now();
    if (state_->draining && !completed_) { // the server stops: say so, like the live streams
      producer_->cancelled = true;
      items_.clear();
      out_ += stream::sse_frame(
          std::nullopt,
          stream::complete_event_json(req().contract_id, stream::iso_now(), "shutdown", total_));
      completed_ = true;
    }
    std::optional<std::chrono::steady_clock::time_point> wait_until;
    char ts[32];
    while (!completed_ && !items_.empty() && out_.size() < kOutCap) {
      const ReplayItem& item = items_.front();
      if (total_ == 0 && !started_set_) {
        started_set_ = true;
        started_ = now;
        first_time_ = item.ib_time;
      }
      if (req().speed > 0 && due(item) > now) {
        wait_until = due(item);
        break;
      }
      out_ += stream::sse_frame(
          std::nullopt, stream::tick_event_json(req().contract_id, stream::iso_now(ts), item.data));
      ++total_;
      items_.pop_front();
    }
    if (!completed_ && !producing_ && !done_producing_ && items_.size() < kLowWater) produce();
    if (!completed_ && items_.empty() && done_producing_ && !producing_) {
      out_ += stream::sse_frame(std::nullopt,
                                stream::complete_event_json(req().contract_id, stream::iso_now(ts),
                                                            "replay_end", total_));
      completed_ = true;
    }
    if (!out_.empty() && !write_pending()) {
      write(std::move(out_));
      out_.clear();
      last_write_ = now;
    }
    if (completed_ && out_.empty()) return finish();
    arm(std::min(wait_until.value_or(now + kTick), now + kTick));
  }

  void arm(std::chrono::steady_clock::time_point at) {
    if (timer_armed_ && at >= armed_at_) return;
    timer_armed_ = true;
    armed_at_ = at;
    const auto generation = ++timer_generation_;
    timer_.expires_at(at);
    timer_.async_wait([weak = weak_self(), generation](boost::system::error_code) {
      auto self = weak.lock();
      if (!self || generation != self->timer_generation_) return;
      self->timer_armed_ = false;
      self->on_timer();
    });
  }

  void on_timer() {
    if (closed() || completed_) return; // what is left goes out from on_written
    const auto now = std::chrono::steady_clock::now();
    if (!write_pending() && out_.empty() &&
        now - last_write_ >= std::chrono::seconds(state_->config.keepalive_seconds)) {
      out_ = std::string(stream::sse_keepalive());
    }
    pump();
  }

  void on_written() override { pump(); }

  void on_client_gone() override {
    producer_->cancelled = true;
    timer_.cancel();
  }

  boost::asio::steady_timer timer_;
  std::shared_ptr<ReplayProducer> producer_;
  std::deque<ReplayItem> items_; // read, not yet sent
  std::string out_;              // framed, not yet handed to the socket
  std::chrono::steady_clock::time_point started_, armed_at_, last_write_;
  std::int64_t first_time_ = 0;
  std::uint64_t total_ = 0;
  std::uint64_t timer_generation_ = 0;
  bool started_set_ = false;
  bool producing_ = false;
  bool done_producing_ = false;
  bool completed_ = false;
  bool timer_armed_ = false;
};

} // namespace

void start_replay_session(beast::tcp_stream stream, std::shared_ptr<ServerState> state,
                          RecordSession::Request request, ReplayRequest replay) {
  std::make_shared<ReplaySession>(std::move(stream), std::move(state), std::move(request),
                                  std::move(replay))
      ->start();
}

} // namespace http

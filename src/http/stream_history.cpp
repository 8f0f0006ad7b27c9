#include "http/stream_history.hpp"

#include "stream/tick_json.hpp"
#include "stream/wire_formats.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <charconv>

namespace http {

StreamHistory::StreamHistory(std::shared_ptr<ServerState> state, int con_id, tws::TickType type,
                             std::optional<store::Position> after,
                             std::optional<std::int64_t> since_ms)
    : state_(std::move(state)), con_id_(con_id), type_(type), after_(after), since_ms_(since_ms) {}

void StreamHistory::fetch(const boost::asio::any_io_executor& ex, std::size_t max_rows,
                          std::function<void(std::vector<store::TickRecord>)> done) {
  fetching_ = true;
  store::Query q;
  q.con_id = con_id_;
  q.tick_type = type_;
  q.after = after_;
  if (!after_) q.start_ms = since_ms_;
  q.limit = max_rows;
  state_->history_workers.post(
      [this, store = state_->store, q, ex, done = std::move(done)]() mutable {
        std::vector<store::TickRecord> rows;
        try {
          if (store)
            store->read(q, [&](const store::TickRecord& r) {
              rows.push_back(r);
              return true;
            });
        } catch (const std::exception& e) {
          // A record that cannot be read is like one without these ticks:
          // the stream goes live and says what it lost.
          spdlog::error("history before live of {}: {}", q.con_id, e.what());
          rows.clear();
        }
        boost::asio::post(ex, [this, rows = std::move(rows), done = std::move(done)]() mutable {
          fetching_ = false;
          if (!rows.empty()) after_ = store::Position{rows.back().seq, rows.back().sub};
          rows_ += rows.size();
          done(std::move(rows));
        });
      });
}

namespace {

void append_data(std::string& out, const store::TickRecord& r) {
  std::visit([&](const auto& t) { stream::append_tick_json(out, t); }, r.tick);
}

} // namespace

void append_sse_record_tick(std::string& out, const store::TickRecord& r) {
  std::string data;
  append_data(data, r);
  char iso[32];
  const stream::TickParts parts{r.seq, r.con_id, r.tick_type, stream::iso_now(iso), data};
  if (r.sub == 0) {
    stream::append_sse_tick(out, parts);
    return;
  }
  // id: seq.sub, then the same frame as append_sse_tick writes.
  std::string frame;
  stream::append_sse_tick(frame, parts);
  const auto nl = frame.find('\n');
  char sub[16];
  out += std::string_view(frame).substr(0, nl);
  out += '.';
  out.append(sub, std::to_chars(sub, sub + sizeof sub, r.sub).ptr);
  out += std::string_view(frame).substr(nl);
}

void append_ws_record_tick_suffix(std::string& out, const store::TickRecord& r) {
  std::string data;
  append_data(data, r);
  char iso[32];
  const stream::TickParts parts{r.seq, r.con_id, r.tick_type, stream::iso_now(iso), data};
  stream::append_ws_tick_suffix(out, parts);
}

} // namespace http

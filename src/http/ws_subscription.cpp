#include "http/ws_subscription.hpp"

#include "http/server_state.hpp"
#include "http/stream_history.hpp"
#include "http/ws_text_frame.hpp"
#include "stream/tick_json.hpp"
#include "stream/wire_formats.hpp"
#include "stream/ws_deflate.hpp"
#include "ws/ws_messages.hpp"

#include <boost/asio/post.hpp>

namespace http {
namespace asio = boost::asio;

namespace {

stream::ClientStream::Options client_options(const WsSubscription::Params& p) {
  stream::ClientStream::Options o;
  o.limit = p.limit;
  o.window = p.window;
  o.slow_after = p.slow_after;
  return o;
}

void append_header(std::string& out, std::size_t payload, bool compressed = false) {
  const auto h = ws_text_frame_header(payload, compressed);
  out.append(reinterpret_cast<const char*>(h.bytes.data()), h.size);
}

} // namespace

void append_ws_text(std::string& out, std::string_view payload) {
  append_header(out, payload.size());
  out += payload;
}

WsSubscription::WsSubscription(asio::any_io_executor loop, std::weak_ptr<WsSubscriptionOwner> owner,
                               Params params)
    : loop_(std::move(loop)), owner_(std::move(owner)), params_(std::move(params)),
      client_(client_options(params_), *this), timeout_timer_(loop_) {
  stream::append_ws_prefix(tick_prefix_, "tick", params_.request_id);
  stream::append_ws_prefix(info_prefix_, "info", params_.request_id);
  stream::append_ws_prefix(error_prefix_, "error", params_.request_id);
  stream::append_stored_block(stored_tick_prefix_, tick_prefix_);
}

WsSubscription::~WsSubscription() = default;

void WsSubscription::end(stream::EndReason reason, const std::optional<stream::Notice>& why) {
  asio::post(loop_, [self = shared_from_this(), reason, why] {
    self->in_hub_ = false; // the Hub has forgotten it already
    if (auto owner = self->owner_.lock()) owner->on_sub_end(self, reason, why);
  });
}

void WsSubscription::on_log_advanced() {
  if (state_ != State::active) return;
  if (auto owner = owner_.lock()) owner->on_sub_advanced();
}

void WsSubscription::opened(const stream::OpenResult& r) {
  stream_id_ = r.stream_id;
  contract_ = r.contract;
  in_hub_ = true;
  std::string none; // a WebSocket subscription never resumes: start() adds nothing
  client_.start(r, none);
}

void WsSubscription::activate(const std::shared_ptr<ServerState>& state) {
  if (state_ != State::opening) return;
  state_ = State::active;
  started_ = std::chrono::steady_clock::now();
  if (params_.since_ms && state && state->store) {
    history_ = std::make_unique<StreamHistory>(state, params_.con_id, params_.tick_type,
                                               std::nullopt, params_.since_ms);
    history_next();
    return;
  }
  client_.attach(this);
}

std::size_t WsSubscription::read(std::string& out, std::size_t budget,
                                 std::chrono::steady_clock::time_point now) {
  if (!history_out_.empty()) {
    out += history_out_;
    history_out_.clear();
  }
  if (history_) {
    history_next();
    return 0;
  }
  return client_.read(out, budget, now);
}

void WsSubscription::history_next() {
  if (!history_ || history_->fetching() || !history_out_.empty() || client_.finished()) return;
  constexpr std::size_t kPage = 2000;
  std::size_t rows = kPage;
  if (params_.limit)
    rows = static_cast<std::size_t>(std::min<std::uint64_t>(
        rows, static_cast<std::uint64_t>(*params_.limit) - client_.ticks_sent()));
  history_->fetch(loop_, rows,
                  [self = shared_from_this(), kPage](std::vector<store::TickRecord> page) {
                    if (!self->history_ || self->state_ != State::active) return;
                    self->history_progress_ = !page.empty();
                    std::string suffix;
                    for (const auto& r : page) {
                      suffix = self->tick_prefix_;
                      append_ws_record_tick_suffix(suffix, r);
                      append_ws_text(self->history_out_, suffix);
                      ++self->messages_;
                      if (!self->client_.history_tick()) {
                        self->client_.finish(self->history_out_, "limit_reached");
                        break;
                      }
                    }
                    if (!self->client_.finished() && page.size() < kPage) self->go_live();
                    if (auto owner = self->owner_.lock()) owner->on_sub_advanced();
                  });
}

void WsSubscription::go_live() {
  if (const auto& last = history_->last()) {
    const auto missing = client_.go_live_after(last->seq);
    if (missing > 0 && history_progress_) return; // the recorder wrote more: read on
    client_.announce_lost(history_out_, missing);
  }
  // What is still in history_out_ goes first (read() appends it before the log).
  auto rest = std::move(history_out_);
  history_.reset();
  history_out_ = std::move(rest);
  client_.attach(this);
}

void WsSubscription::set_finished() {
  state_ = State::finished;
  client_.detach();
}

double WsSubscription::duration_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

void WsSubscription::tick(std::string& out, const stream::LogEntry& e, stream::LogCursor& at,
                          std::uint64_t upto) {
  ++messages_;
  if (params_.deflate) {
    if (const auto deflated = at.deflated(upto); !deflated.empty()) {
      append_header(out, stored_tick_prefix_.size() + deflated.size(), true);
      out += stored_tick_prefix_;
      out += deflated;
      return;
    }
  }
  append_header(out, tick_prefix_.size() + e.ws.size());
  out += tick_prefix_;
  out += e.ws;
}

void WsSubscription::notice(std::string& out, const stream::LogEntry& e) {
  ++messages_;
  const std::string& prefix = e.kind == stream::EntryKind::error ? error_prefix_ : info_prefix_;
  append_header(out, prefix.size() + e.ws.size());
  out += prefix;
  out += e.ws;
  const bool lost = e.kind == stream::EntryKind::error && e.code == "TWS_DISCONNECTED";
  const bool back = e.kind == stream::EntryKind::info && e.code == "reconnected";
  if (lost || back)
    if (auto owner = owner_.lock()) owner->on_sub_tws(shared_from_this(), lost);
}

void WsSubscription::info(std::string& out, std::string_view code, std::string_view message,
                          std::string_view extra_json) {
  ++messages_;
  append_ws_text(
      out, ws::info_message(stream::iso_now(), params_.request_id, code, message, extra_json));
}

void WsSubscription::error(std::string& out, std::string_view code, std::string_view message,
                           std::string_view details) {
  ++messages_;
  append_ws_text(out, ws::error_message(stream::iso_now(), {std::nullopt, params_.request_id}, code,
                                        message, details));
}

void WsSubscription::complete(std::string& out, std::string_view reason,
                              std::uint64_t total_ticks) {
  ++messages_;
  append_ws_text(out, ws::complete_message(stream::iso_now(), params_.request_id, reason,
                                           total_ticks, duration_seconds()));
}

} // namespace http

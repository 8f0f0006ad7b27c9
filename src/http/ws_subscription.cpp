#include "http/ws_subscription.hpp"

#include <boost/asio/post.hpp>

namespace http {
namespace asio = boost::asio;

WsSubscription::WsSubscription(asio::any_io_executor strand, std::weak_ptr<WsSubscriptionSink> sink,
                               WsTickCache& cache, Params params)
    : strand_(std::move(strand)), sink_(std::move(sink)), cache_(cache), params_(std::move(params)),
      prefix_(std::make_shared<const std::string>(ws::ws_tick_prefix(params_.request_id))),
      timeout_timer_(strand_) {
  append_stored_block(stored_prefix_, *prefix_);
}

void WsSubscription::deliver(const stream::TickEventPtr& tick) {
  if (!tick) return;
  // On the Hub's strand: the first WebSocket client of this tick serializes
  // it, the others share those bytes.
  enqueue({Inbound::Kind::tick, cache_.get(tick, params_.deflate), std::nullopt, {}});
}

void WsSubscription::notify(const stream::Notice& notice) {
  enqueue({Inbound::Kind::notice, nullptr, notice, {}});
}

void WsSubscription::end(stream::EndReason reason, const std::optional<stream::Notice>& why) {
  enqueue({Inbound::Kind::end, nullptr, why, reason});
}

void WsSubscription::enqueue(Inbound in) {
  if (inbox_.push(std::move(in)))
    asio::post(strand_, [self = shared_from_this()] { self->drain_inbox(); });
}

void WsSubscription::drain_inbox() {
  inbox_.take(draining_);
  auto sink = sink_.lock();
  auto self = shared_from_this();
  if (sink) sink->hold_writes();
  for (auto& in : draining_) {
    if (in.kind == Inbound::Kind::end) in_hub_ = false; // the Hub has forgotten it already
    if (!sink) continue;
    switch (in.kind) {
    case Inbound::Kind::tick: sink->on_sub_tick(self, std::move(in.tick)); break;
    case Inbound::Kind::notice: sink->on_sub_notice(self, *in.notice); break;
    case Inbound::Kind::end: sink->on_sub_end(self, in.reason, in.notice); break;
    }
  }
  if (sink) sink->release_writes();
  draining_.clear();
}

void WsSubscription::opened(const stream::OpenResult& r) {
  stream_id_ = r.stream_id;
  counters_ = r.counters;
  contract_ = r.contract;
  in_hub_ = true;
  // Ticks the subscription received while this open was waiting come first,
  // before any delivered since (as ClientStream::start does).
  std::deque<WsTick> replay;
  for (const auto& t : r.replay)
    if (t) replay.push_back(cache_.get(t, params_.deflate));
  early_.insert(early_.begin(), std::make_move_iterator(replay.begin()),
                std::make_move_iterator(replay.end()));
}

void WsSubscription::activate() {
  active_ = true;
  started_ = std::chrono::steady_clock::now();
}

void WsSubscription::tick_taken() {
  if (ticks_queued_ > 0) --ticks_queued_;
  ++ticks_sent_;
  if (counters_) ++counters_->ticks_sent;
}

void WsSubscription::tick_dropped() {
  if (ticks_queued_ > 0) --ticks_queued_;
  ++dropped_;
  if (counters_) ++counters_->dropped;
}

void WsSubscription::hold_early(WsTick tick, std::size_t capacity) {
  early_.push_back(std::move(tick));
  if (early_.size() > capacity) {
    early_.pop_front();
    ++dropped_; // counted once the stream is known to the Hub's snapshots
    if (counters_) ++counters_->dropped;
  }
}

std::vector<WsTick> WsSubscription::take_early() {
  std::vector<WsTick> out(std::make_move_iterator(early_.begin()),
                          std::make_move_iterator(early_.end()));
  early_.clear();
  return out;
}

bool WsSubscription::limit_reached() const {
  return params_.limit && total_ticks() >= static_cast<std::uint64_t>(*params_.limit);
}

double WsSubscription::duration_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

} // namespace http

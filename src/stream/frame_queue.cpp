#include "stream/frame_queue.hpp"

#include <algorithm>

namespace stream {

FrameQueue::FrameQueue(std::size_t capacity, std::size_t slow_after)
    : capacity_(std::max<std::size_t>(1, capacity)),
      slow_after_(slow_after == 0 ? kSlowAfterQueues * std::max<std::size_t>(1, capacity)
                                  : slow_after) {}

FrameQueue::Push FrameQueue::push(Frame frame) {
  Push result = Push::queued;
  if (ticks_ == capacity_) {
    // Drop the oldest tick frame; control frames stay where they are.
    auto it =
        std::find_if(frames_.begin(), frames_.end(), [](const Entry& e) { return !e.control; });
    bytes_ -= it->frame->size();
    frames_.erase(it);
    --ticks_;
    ++dropped_;
    ++streak_;
    result = streak_ >= slow_after_ ? Push::slow_consumer : Push::dropped_oldest;
  }
  bytes_ += frame->size();
  frames_.push_back({std::move(frame), false});
  ++ticks_;
  return result;
}

void FrameQueue::push_control(Frame frame) {
  bytes_ += frame->size();
  frames_.push_back({std::move(frame), true});
}

void FrameQueue::take_all(std::vector<Frame>& out) {
  out.reserve(out.size() + frames_.size());
  for (auto& e : frames_) out.push_back(std::move(e.frame));
  frames_.clear();
  ticks_ = 0;
  bytes_ = 0;
  streak_ = 0;
}

} // namespace stream

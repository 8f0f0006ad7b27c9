// The recorder's writer thread: commits the queued rows in batches, then
// the gap records, and runs retention.
#include "record/recorder_impl.hpp"

#include <spdlog/spdlog.h>

namespace record {

void WriterQueue::push(std::vector<store::TickRecord>& rows) {
  if (rows.empty()) return;
  {
    const std::lock_guard lock(m_);
    if (rows_.empty()) {
      rows_.swap(rows);
    } else {
      rows_.insert(rows_.end(), std::make_move_iterator(rows.begin()),
                   std::make_move_iterator(rows.end()));
    }
    pending_.store(rows_.size(), std::memory_order_relaxed);
  }
  cv_.notify_one();
}

void WriterQueue::push(GapOp op) {
  {
    const std::lock_guard lock(m_);
    ops_.push_back(std::move(op));
  }
  cv_.notify_one();
}

void WriterQueue::stop() {
  {
    const std::lock_guard lock(m_);
    stopping_ = true;
  }
  cv_.notify_one();
}

void WriterQueue::run(Recorder::Impl& impl) {
  const auto interval = impl.cfg.commit_interval;
  auto last_commit = Clock::now() - interval;
  auto next_retention = Clock::now();
  std::vector<store::TickRecord> batch;
  std::vector<GapOp> ops;
  bool failing = false;
  const auto run_retention = [&] {
    if (Clock::now() < next_retention) return;
    next_retention = Clock::now() + impl.cfg.retention_interval;
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    try {
      for (const auto& f : impl.store->enforce_retention(now))
        spdlog::info("retention: removed {}", f.string());
    } catch (const std::exception& e) {
      spdlog::error("retention: {}", e.what());
    }
  };
  for (;;) {
    {
      std::unique_lock lock(m_);
      // Retention runs on its schedule even when nothing is recorded.
      cv_.wait_until(lock, next_retention,
                     [&] { return stopping_ || !rows_.empty() || !ops_.empty(); });
      if (stopping_ && rows_.empty() && ops_.empty()) break;
      // Batch: what arrives within the commit interval goes in one commit.
      const auto due = last_commit + (failing ? impl.cfg.write_retry : interval);
      cv_.wait_until(lock, due, [&] { return stopping_; });
      batch.swap(rows_);
      ops.swap(ops_);
      rows_.clear();
      ops_.clear();
      {
        const std::lock_guard h(impl.mutex);
        impl.oldest_pending_us = batch.empty() ? 0 : batch.front().recv_us;
      }
    }
    last_commit = Clock::now();
    run_retention();
    if (!batch.empty()) {
      auto err = impl.store->write(batch);
      if (err) {
        {
          const std::lock_guard lock(impl.mutex);
          ++impl.health_state.write_errors;
        }
        if (!failing)
          spdlog::error("recorder: cannot write {} ticks: {}", batch.size(), err->message);
        failing = true;
        impl.set_health(true, err->message + (err->disk_full ? " (disk full)" : "") + "; " +
                                  std::to_string(batch.size()) +
                                  " ticks wait to be written, recording resumes when the "
                                  "write succeeds");
        std::unique_lock lock(m_);
        if (stopping_) {
          spdlog::error("recorder: {} ticks not written at shutdown: {}", batch.size(),
                        err->message);
          rows_.clear();
          ops_.clear();
          pending_.store(0);
          break;
        }
        // Back to the front of the queue, in order.
        batch.insert(batch.end(), std::make_move_iterator(rows_.begin()),
                     std::make_move_iterator(rows_.end()));
        rows_.swap(batch);
        ops.insert(ops.end(), std::make_move_iterator(ops_.begin()),
                   std::make_move_iterator(ops_.end()));
        ops_.swap(ops);
        batch.clear();
        ops.clear();
        pending_.store(rows_.size(), std::memory_order_relaxed);
        continue;
      }
      if (failing) spdlog::info("recorder: writing again ({} ticks)", batch.size());
      failing = false;
      impl.set_health(false, {});
      // Counters per stream.
      std::map<StreamKey, std::tuple<std::uint64_t, std::uint64_t, std::int64_t>> per;
      for (const auto& r : batch) {
        auto& [live, backfill, last] = per[{r.con_id, r.tick_type}];
        (r.source == store::Source::live ? live : backfill) += 1;
        if (r.source == store::Source::live) last = std::max(last, r.ib_time);
      }
      for (const auto& [key, v] : per) {
        auto c = impl.counters_of(key);
        const auto& [live, backfill, last] = v;
        c->recorded += live;
        c->backfilled += backfill;
        if (last > c->last_tick_time) c->last_tick_time = last;
        const auto done = live + backfill;
        const auto before = c->pending.load();
        c->pending = before > done ? before - done : 0;
      }
      {
        const std::lock_guard lock(m_);
        pending_.store(rows_.size(), std::memory_order_relaxed);
      }
      batch.clear();
    }
    for (auto& op : ops) {
      op.gap.id = op.id->load();
      auto err = op.gap.id == 0 ? impl.store->add_gap(op.gap) : impl.store->update_gap(op.gap);
      if (err) spdlog::error("recorder: cannot record a gap: {}", err->message);
      else op.id->store(op.gap.id);
    }
    ops.clear();
  }
}

} // namespace record

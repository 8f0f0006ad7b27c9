#include "record/tracked_stream.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <future>

namespace asio = boost::asio;

namespace record {

Recorder::Impl::Impl(std::shared_ptr<stream::Hub> h, std::shared_ptr<store::Store> s,
                     RecorderConfig c)
    : hub(std::move(h)), store(std::move(s)), cfg(c), file(store->config().dir), pacer(cfg.pacing) {
}

std::shared_ptr<StreamCounters> Recorder::Impl::counters_of(StreamKey key) {
  const std::lock_guard lock(mutex);
  auto& c = counters[key];
  if (!c) c = std::make_shared<StreamCounters>();
  return c;
}

void Recorder::Impl::set_health(bool degraded, std::string message) {
  const std::lock_guard lock(mutex);
  if (degraded && !health_state.degraded) spdlog::warn("recorder degraded: {}", message);
  if (!degraded && health_state.degraded) spdlog::info("recorder recovered");
  health_state.degraded = degraded;
  health_state.message = std::move(message);
}

std::shared_ptr<Recorder> Recorder::create(std::shared_ptr<stream::Hub> hub,
                                           std::shared_ptr<store::Store> store,
                                           RecorderConfig config) {
  return std::shared_ptr<Recorder>(
      new Recorder(std::make_shared<Impl>(std::move(hub), std::move(store), config)));
}

Recorder::Recorder(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Recorder::~Recorder() { stop(); }

namespace {

void arm_poll(const std::shared_ptr<Recorder::Impl>& impl,
              const std::shared_ptr<asio::steady_timer>& timer) {
  timer->expires_after(std::chrono::seconds(1));
  timer->async_wait(
      [weak = std::weak_ptr<Recorder::Impl>(impl), timer](boost::system::error_code ec) {
        auto impl = weak.lock();
        if (ec || !impl || impl->stopping) return;
        for (auto& [key, s] : impl->streams) s->poll();
        arm_poll(impl, timer);
      });
}

} // namespace

void Recorder::start(const TrackedSet& initial) {
  auto& impl = *impl_;
  auto set = impl.file.load();
  for (const auto& [con_id, types] : initial) set[con_id].insert(types.begin(), types.end());
  if (auto err = impl.file.save(set); !err.empty()) throw std::runtime_error(err);
  {
    const std::lock_guard lock(impl.mutex);
    impl.tracked_set = set;
  }
  impl.work.emplace(impl.loop.get_executor());
  impl.writer_thread = std::thread([p = impl_] { p->queue.run(*p); });
  impl.loop_thread = std::thread([p = impl_] { p->loop.run(); });
  asio::post(impl.loop, [p = impl_, set] {
    for (const auto& [con_id, types] : set)
      for (auto t : types) p->open_stream({con_id, t}, nullptr);
    arm_poll(p, std::make_shared<asio::steady_timer>(p->loop));
  });
  if (!set.empty())
    spdlog::info("recorder: tracking {} ({})", format_track_spec(set), impl.file.path().string());
}

void Recorder::stop() {
  auto& impl = *impl_;
  if (!impl.loop_thread.joinable()) return;
  std::promise<void> closed;
  asio::post(impl.loop, [p = impl_, &closed] {
    p->stopping = true;
    for (auto& [key, s] : p->streams) s->close();
    p->streams.clear();
    p->backfill_timer.cancel();
    closed.set_value();
  });
  closed.get_future().wait();
  impl.work.reset();
  impl.loop.stop();
  impl.loop_thread.join();
  impl.queue.stop();
  impl.writer_thread.join();
}

void Recorder::Impl::open_stream(StreamKey key,
                                 std::function<void(std::optional<stream::OpenError>)> done) {
  auto& s = streams[key];
  if (s && s->state != TrackedStream::State::closed) {
    if (done) done(std::nullopt);
    return;
  }
  s = std::make_shared<TrackedStream>(*this, key);
  s->open(std::move(done));
}

void Recorder::Impl::close_stream(StreamKey key) {
  auto it = streams.find(key);
  if (it == streams.end()) return;
  it->second->close();
  streams.erase(it);
}

std::vector<TrackedStatus> Recorder::Impl::status_now() {
  std::vector<TrackedStatus> out;
  std::int64_t oldest = 0;
  {
    const std::lock_guard lock(mutex);
    oldest = oldest_pending_us;
  }
  const double lag_s = oldest > 0 ? static_cast<double>(now_us() - oldest) / 1e6 : 0.0;
  for (const auto& [key, s] : streams) {
    TrackedStatus st;
    st.con_id = key.first;
    st.tick_type = key.second;
    switch (s->state) {
    case TrackedStream::State::starting: st.state = "starting"; break;
    case TrackedStream::State::recording: st.state = "recording"; break;
    case TrackedStream::State::retrying: st.state = "retrying"; break;
    case TrackedStream::State::closed: st.state = "closed"; break;
    }
    st.error = s->error;
    auto c = counters_of(key);
    st.ticks_recorded = c->recorded.load();
    st.backfilled = c->backfilled.load();
    st.last_tick_time = c->last_tick_time.load();
    st.lag_ticks = c->pending.load();
    st.lag_seconds = st.lag_ticks > 0 ? lag_s : 0.0;
    try {
      st.gaps = store->gaps(key.first, key.second);
    } catch (const std::exception& e) {
      spdlog::error("recorder: cannot read the gaps of {}: {}", key.first, e.what());
    }
    out.push_back(std::move(st));
  }
  return out;
}

void Recorder::status(std::function<void(std::vector<TrackedStatus>)> done) {
  asio::post(impl_->loop, [p = impl_, done = std::move(done)] { done(p->status_now()); });
}

void Recorder::track(
    int con_id, std::set<tws::TickType> types,
    std::function<void(std::optional<stream::OpenError>, std::vector<TrackedStatus>)> done) {
  asio::post(impl_->loop, [p = impl_, con_id, types = std::move(types), done = std::move(done)] {
    // Open every new type; when all have answered, keep them or undo.
    struct Pending {
      std::size_t left = 0;
      std::optional<stream::OpenError> error;
      std::vector<StreamKey> added;
    };
    auto pending = std::make_shared<Pending>();
    for (auto t : types)
      if (!p->streams.count({con_id, t})) pending->added.push_back({con_id, t});
    const auto finish = [p, con_id, pending, done] {
      if (pending->error) {
        for (const auto& k : pending->added) p->close_stream(k);
        done(pending->error, {});
        return;
      }
      {
        const std::lock_guard lock(p->mutex);
        for (const auto& k : pending->added) p->tracked_set[con_id].insert(k.second);
      }
      if (auto err = p->file.save(p->tracked()); !err.empty())
        spdlog::error("recorder: could not save the tracked streams: {}", err);
      auto all = p->status_now();
      std::erase_if(all, [&](const TrackedStatus& s) { return s.con_id != con_id; });
      done(std::nullopt, std::move(all));
    };
    pending->left = pending->added.size();
    if (pending->left == 0) {
      finish();
      return;
    }
    for (const auto& k : pending->added) {
      p->open_stream(k, [pending, finish](std::optional<stream::OpenError> e) {
        // TWS unavailable is not a refusal: the stream opens when TWS is back.
        if (e && e->status != 503 && !pending->error) pending->error = e;
        if (--pending->left == 0) finish();
      });
    }
  });
}

void Recorder::untrack(int con_id, std::function<void(bool, std::string)> done) {
  asio::post(impl_->loop, [p = impl_, con_id, done = std::move(done)] {
    bool found = false;
    for (auto it = p->streams.begin(); it != p->streams.end();) {
      if (it->first.first == con_id) {
        it->second->close();
        it = p->streams.erase(it);
        found = true;
      } else {
        ++it;
      }
    }
    {
      const std::lock_guard lock(p->mutex);
      found = p->tracked_set.erase(con_id) > 0 || found;
    }
    std::string err = found ? p->file.save(p->tracked()) : std::string();
    done(found, std::move(err));
  });
}

RecorderHealth Recorder::health() const {
  const std::lock_guard lock(impl_->mutex);
  auto h = impl_->health_state;
  h.pending_rows = impl_->queue.pending();
  return h;
}

TrackedSet Recorder::tracked() const { return impl_->tracked(); }

} // namespace record

#include "stream/log.hpp"

#include "stream/ws_deflate.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cstring>
#include <limits>

namespace stream {
namespace asio = boost::asio;

namespace {

/// A chunk holds a quarter of the log's entries and bytes, within these
/// bounds (an entry larger than that gets a chunk of its own size): a few
/// allocations per few hundred events, and a window within a quarter of
/// what was asked.
constexpr std::uint32_t kMinEntriesPerChunk = 16;
constexpr std::uint32_t kMaxEntriesPerChunk = 512;
constexpr std::size_t kMinBytesPerChunk = 4 * 1024;
constexpr std::size_t kMaxBytesPerChunk = 64 * 1024;
constexpr std::uint32_t kOpen = std::numeric_limits<std::uint32_t>::max();

} // namespace

// ------------------------------------------------------------------ ReaderGroup

/// The allocator of the wake-up handler: the group's own memory, so a
/// wake-up allocates nothing. At most one wake-up is pending per group, so
/// one block suffices; the allocator holds the group (and its memory) until
/// Asio has given the block back.
template <class T> struct WakeAllocator {
  using value_type = T;
  std::shared_ptr<ReaderGroup> group;

  explicit WakeAllocator(std::shared_ptr<ReaderGroup> g) : group(std::move(g)) {}
  template <class U> WakeAllocator(const WakeAllocator<U>& o) noexcept : group(o.group) {}

  T* allocate(std::size_t n);
  void deallocate(T* p, std::size_t n) noexcept;
  template <class U> bool operator==(const WakeAllocator<U>& o) const noexcept {
    return group == o.group;
  }
  template <class U> bool operator!=(const WakeAllocator<U>& o) const noexcept {
    return group != o.group;
  }
};

struct ReaderGroup::WakeHandler {
  std::shared_ptr<ReaderGroup> group;
  using allocator_type = WakeAllocator<void>;
  allocator_type get_allocator() const noexcept { return allocator_type(group); }
  void operator()() const { group->run(); }
};

template <class T> T* WakeAllocator<T>::allocate(std::size_t n) {
  const std::size_t bytes = sizeof(T) * n;
  if (bytes <= sizeof group->handler_memory_ && alignof(T) <= alignof(std::max_align_t) &&
      !group->handler_memory_used_.exchange(true, std::memory_order_acquire))
    return reinterpret_cast<T*>(group->handler_memory_);
  return static_cast<T*>(::operator new(bytes));
}

template <class T> void WakeAllocator<T>::deallocate(T* p, std::size_t) noexcept {
  if (reinterpret_cast<unsigned char*>(p) == group->handler_memory_) {
    group->handler_memory_used_.store(false, std::memory_order_release);
    return;
  }
  ::operator delete(p);
}

ReaderGroup::ReaderGroup(asio::io_context& loop) : loop_(loop) {}
ReaderGroup::~ReaderGroup() = default;

void ReaderGroup::wake() {
  if (size_.load(std::memory_order_relaxed) == 0) return;
  // The writer published the head before this exchange; run() clears the
  // flag before it reads the head: a wake-up is never lost.
  if (pending_.exchange(true)) return;
  asio::post(loop_.get_executor(), WakeHandler{shared_from_this()});
}

void ReaderGroup::run() {
  pending_.store(false);
  running_ = true;
  // By index: a consumer may add or remove consumers while it is called.
  for (std::size_t i = 0; i < consumers_.size(); ++i)
    if (auto* c = consumers_[i]) c->on_log_advanced();
  running_ = false;
  if (holes_) {
    std::erase(consumers_, nullptr);
    holes_ = false;
  }
}

void ReaderGroup::add(LogConsumer* c) {
  consumers_.push_back(c);
  size_.fetch_add(1, std::memory_order_relaxed);
}

void ReaderGroup::remove(LogConsumer* c) {
  auto it = std::find(consumers_.begin(), consumers_.end(), c);
  if (it == consumers_.end()) return;
  size_.fetch_sub(1, std::memory_order_relaxed);
  if (running_) {
    *it = nullptr;
    holes_ = true;
  } else {
    consumers_.erase(it);
  }
}

// ------------------------------------------------------------------ Log

struct Log::Chunk {
  Chunk(std::uint64_t first_position, std::uint32_t entry_capacity, std::size_t sse_capacity,
        std::size_t other_capacity)
      : first(first_position), entry_capacity(entry_capacity), sse_capacity(sse_capacity),
        other_capacity(other_capacity), entries(std::make_unique<LogEntry[]>(entry_capacity)),
        bytes(std::make_unique<char[]>(sse_capacity + other_capacity)) {}

  const std::uint64_t first; // position of entries[0]
  const std::uint32_t entry_capacity;
  // Two arenas in `bytes`: the SSE frames, one after the other (so a run of
  // entries is one contiguous range a client can send as it is), then the
  // other encodings.
  const std::size_t sse_capacity;
  const std::size_t other_capacity;
  /// The number of entries once the writer moved on to the next chunk;
  /// kOpen while it may still append here.
  std::atomic<std::uint32_t> sealed{kOpen};
  std::uint32_t count = 0;    // writer only
  std::size_t sse_used = 0;   // writer only
  std::size_t other_used = 0; // writer only
  std::size_t used() const { return sse_used + other_used; }
  std::unique_ptr<LogEntry[]> entries;
  std::unique_ptr<char[]> bytes;
  /// Deflated WebSocket suffixes of the ticks, made under deflate_mutex_
  /// and read once Log::deflated_upto_ has passed them.
  mutable std::unique_ptr<std::string[]> deflated;
};

Log::Log(std::uint64_t seq_base, LogLimits limits)
    : limits_(limits), last_seq_(seq_base),
      entries_per_chunk_(static_cast<std::uint32_t>(std::clamp<std::size_t>(
          limits.max_entries / 4, kMinEntriesPerChunk, kMaxEntriesPerChunk))),
      bytes_per_chunk_(
          std::clamp<std::size_t>(limits.max_bytes / 4, kMinBytesPerChunk, kMaxBytesPerChunk)) {
  limits_.max_entries = std::max<std::size_t>(1, limits_.max_entries);
}

Log::~Log() = default;

std::uint64_t Log::append(EntryKind kind, std::string_view sse, std::string_view ws,
                          std::string_view code, std::string_view record,
                          std::int64_t received_ns) {
  const std::size_t other = ws.size() + code.size() + record.size();
  const std::size_t need = sse.size() + other;
  Chunk* c = chunks_.empty() ? nullptr : chunks_.back().get();
  if (!c || c->count == c->entry_capacity || c->sse_used + sse.size() > c->sse_capacity ||
      c->other_used + other > c->other_capacity) {
    if (c) c->sealed.store(c->count, std::memory_order_release);
    auto fresh = std::make_shared<Chunk>(appended_, entries_per_chunk_,
                                         std::max(bytes_per_chunk_, sse.size()),
                                         std::max(bytes_per_chunk_, other));
    c = fresh.get();
    const std::lock_guard lock(chunks_mutex_);
    chunks_.push_back(std::move(fresh));
  }
  const auto put = [](char* at, std::string_view s) {
    if (!s.empty()) std::memcpy(at, s.data(), s.size());
    return std::string_view(at, s.size());
  };
  char* sse_at = c->bytes.get() + c->sse_used;
  char* other_at = c->bytes.get() + c->sse_capacity + c->other_used;
  LogEntry& e = c->entries[c->count];
  e.kind = kind;
  e.seq = kind == EntryKind::tick ? ++last_seq_ : last_seq_;
  e.sse = put(sse_at, sse);
  e.ws = put(other_at, ws);
  e.code = put(other_at + ws.size(), code);
  e.record = put(other_at + ws.size() + code.size(), record);
  e.received_ns = received_ns;
  c->sse_used += sse.size();
  c->other_used += other;
  ++c->count;
  bytes_held_.fetch_add(need, std::memory_order_relaxed);
  const std::uint64_t position = appended_++;
  trim();
  return position;
}

void Log::trim() {
  // Keep at least max_entries entries while they fit in max_bytes; drop
  // whole chunks from the front.
  while (chunks_.size() > 1) {
    const bool enough_without = appended_ - chunks_[1]->first >= limits_.max_entries;
    const bool too_big = bytes_held_.load(std::memory_order_relaxed) > limits_.max_bytes;
    if (!enough_without && !too_big) break;
    const std::lock_guard lock(chunks_mutex_);
    bytes_held_.fetch_sub(chunks_.front()->used(), std::memory_order_relaxed);
    chunks_.pop_front();
    tail_.store(chunks_.front()->first, std::memory_order_release);
  }
}

void Log::publish() {
  if (head_.load(std::memory_order_relaxed) == appended_) return;
  head_.store(appended_);
  for (const auto& g : groups_) g->wake();
}

std::shared_ptr<ReaderGroup> Log::readers(asio::io_context& loop) {
  for (const auto& g : groups_)
    if (&g->loop() == &loop) return g;
  return groups_.emplace_back(std::make_shared<ReaderGroup>(loop));
}

Log::Resume Log::resume_after(std::uint64_t last_seen) const {
  // The writer's thread: chunks_ changes on this thread only.
  Resume r;
  r.position = appended_;
  r.seq_before = last_seq_;
  if (last_seen > last_seq_) {
    r.unknown = true;
    return r;
  }
  std::uint64_t first_held = last_seq_ + 1; // the oldest tick held
  bool found_first = false, found_position = false;
  for (const auto& c : chunks_) {
    for (std::uint32_t i = 0; i < c->count && !found_position; ++i) {
      const LogEntry& e = c->entries[i];
      if (!e.is_tick()) continue;
      if (!found_first) {
        first_held = e.seq;
        found_first = true;
      }
      if (e.seq > last_seen) {
        r.position = c->first + i;
        r.seq_before = e.seq - 1;
        found_position = true;
      }
    }
    if (found_position) break;
  }
  if (last_seen + 1 < first_held) r.lost = first_held - (last_seen + 1);
  return r;
}

Log::After Log::find_after(std::uint64_t seq) const {
  // Entries below head() are published and immutable; their chunks are
  // found under the chunk lock. Sequence numbers never decrease.
  const std::lock_guard lock(chunks_mutex_);
  const std::uint64_t head = head_.load(std::memory_order_acquire);
  After r{head, 0};
  bool first_tick = true;
  for (const auto& c : chunks_) {
    if (c->first >= head) break;
    const auto n = static_cast<std::uint32_t>(std::min<std::uint64_t>(
        head - c->first,
        c->sealed.load(std::memory_order_acquire) == kOpen ? c->entry_capacity : c->sealed.load()));
    // The chunk's last entry tells whether the tick is in it.
    if (n == 0 || c->entries[n - 1].seq <= seq) {
      for (std::uint32_t i = 0; i < n && first_tick; ++i)
        if (c->entries[i].is_tick()) first_tick = false;
      continue;
    }
    for (std::uint32_t i = 0; i < n; ++i) {
      const LogEntry& e = c->entries[i];
      if (!e.is_tick()) continue;
      if (first_tick && e.seq > seq + 1) r.missing = e.seq - (seq + 1);
      first_tick = false;
      if (e.seq > seq) {
        r.position = c->first + i;
        return r;
      }
    }
  }
  return r;
}

std::shared_ptr<const Log::Chunk> Log::chunk_for(std::uint64_t position) const {
  const std::lock_guard lock(chunks_mutex_);
  if (chunks_.empty() || position < chunks_.front()->first) return nullptr;
  // The last chunk whose first position is <= position.
  auto it = std::upper_bound(chunks_.begin(), chunks_.end(), position,
                             [](std::uint64_t p, const auto& c) { return p < c->first; });
  return *(it - 1);
}

void Log::deflate_upto(std::uint64_t upto) {
  if (deflated_upto_.load(std::memory_order_acquire) >= upto) return;
  const std::lock_guard lock(deflate_mutex_);
  std::uint64_t p = std::max(deflated_upto_.load(std::memory_order_relaxed), tail());
  std::shared_ptr<const Chunk> c;
  for (; p < upto; ++p) {
    if (!c || p - c->first >= c->sealed.load(std::memory_order_acquire)) {
      c = chunk_for(p);
      if (!c) {
        p = tail() - 1; // dropped meanwhile: go on from the oldest held
        continue;
      }
    }
    if (!c->deflated) c->deflated = std::make_unique<std::string[]>(c->entry_capacity);
    const LogEntry& e = c->entries[p - c->first];
    if (e.is_tick()) c->deflated[p - c->first] = deflate_message_part(e.ws);
  }
  if (upto > deflated_upto_.load(std::memory_order_relaxed))
    deflated_upto_.store(upto, std::memory_order_release);
}

// ------------------------------------------------------------------ LogCursor

const LogEntry* LogCursor::get() {
  if (!log_ || pos_ >= log_->head()) return nullptr;
  if (!chunk_ || pos_ < chunk_->first ||
      pos_ - chunk_->first >= chunk_->sealed.load(std::memory_order_acquire)) {
    auto next = log_->chunk_for(pos_);
    if (keep_ && chunk_) keep_->push_back(std::move(chunk_)); // its bytes are still in use
    chunk_ = std::move(next);
    if (!chunk_) return nullptr; // no longer held
  }
  return &chunk_->entries[pos_ - chunk_->first];
}

std::uint64_t LogCursor::run_end(std::uint64_t head) const {
  if (!chunk_) return pos_;
  const std::uint32_t sealed = chunk_->sealed.load(std::memory_order_acquire);
  return sealed == kOpen ? head : std::min(head, chunk_->first + sealed);
}

const LogEntry& LogCursor::at(std::uint64_t position) const {
  return chunk_->entries[position - chunk_->first];
}

std::string_view LogCursor::deflated(std::uint64_t upto) {
  if (!get()) return {};
  log_->deflate_upto(std::max(upto, pos_ + 1));
  if (!chunk_->deflated) return {};
  return chunk_->deflated[pos_ - chunk_->first];
}

} // namespace stream

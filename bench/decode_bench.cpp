// Scenario 5: the per-tick CPU cost of the hot path, per core.
//   - TICK_BY_TICK frames split from a byte stream and decoded (FrameReader +
//     decode_message), as tws::Client does for every tick;
//   - the api.md §1 tick JSON (append_tick_json), and the whole SSE event the
//     Hub builds once per tick (tick_event_json + sse_frame).
// items_per_second in the output is frames (or ticks) per second on one core.
#include "stamped_tick.hpp"
#include "stream/sse_events.hpp"
#include "stream/tick_json.hpp"
#include "tws/messages.hpp"
#include "tws/wire.hpp"

#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

namespace {

constexpr int kVersion = tws::kMaxServerVersion;
constexpr int kBatch = 1000;

tws::TickByTickLast last_tick(int i) {
  tws::TickByTickLast t;
  t.req_id = 7;
  t.type = tws::TickType::last;
  t.time = 1700000000 + i;
  t.price = 189.42 + 0.01 * (i % 50);
  t.size = 100 + i % 7;
  t.exchange = "NASDAQ";
  return t;
}

/// kBatch frames back to back, as they arrive on the TWS socket.
template <class MakeTick> std::string stream_of(MakeTick make) {
  std::string bytes;
  for (int i = 0; i < kBatch; ++i) bytes += tws::encode(make(i));
  return bytes;
}

void decode_frames(benchmark::State& state, const std::string& bytes) {
  for (auto _ : state) {
    tws::FrameReader reader;
    reader.append(bytes);
    std::string_view payload;
    std::error_code ec;
    while (reader.next(payload, ec) == tws::FrameReader::Status::frame) {
      auto m = tws::decode_message(payload, kVersion);
      benchmark::DoNotOptimize(m);
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_DecodeTickByTickBidAsk(benchmark::State& state) {
  decode_frames(state, stream_of([](int i) {
                  return bench::stamped_tick(7, 123456789012ull + i, static_cast<std::uint64_t>(i));
                }));
}
BENCHMARK(BM_DecodeTickByTickBidAsk);

void BM_DecodeTickByTickLast(benchmark::State& state) {
  decode_frames(state, stream_of(last_tick));
}
BENCHMARK(BM_DecodeTickByTickLast);

void BM_EncodeTickJsonBidAsk(benchmark::State& state) {
  const auto t = bench::stamped_tick(7, 123456789012ull, 42);
  std::string out;
  for (auto _ : state) {
    out.clear();
    stream::append_tick_json(out, t);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeTickJsonBidAsk);

void BM_EncodeTickJsonLast(benchmark::State& state) {
  const auto t = last_tick(3);
  std::string out;
  for (auto _ : state) {
    out.clear();
    stream::append_tick_json(out, t);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeTickJsonLast);

/// What the Hub builds once per tick for all SSE clients.
void BM_EncodeSseTickEvent(benchmark::State& state) {
  const auto t = bench::stamped_tick(7, 123456789012ull, 42);
  const std::string iso = "2025-01-15T10:30:00.123Z";
  std::uint64_t seq = 0;
  std::string json;
  for (auto _ : state) {
    json.clear();
    stream::append_tick_json(json, t);
    auto frame = stream::sse_frame(++seq, stream::tick_event_json(265598, iso, json));
    benchmark::DoNotOptimize(frame.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeSseTickEvent);

} // namespace

BENCHMARK_MAIN();

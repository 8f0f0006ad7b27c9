// `ib-tws-sim --dump`: the first ticks of a contract's seeded market, per
// tick type, as JSON lines, without listening. Tests compare what a client
// received with this output.
//
// Line format (one per tick, in market-event order):
//   {"tick_type":"BidAsk","index":i,"event":e,"con_id":c,"data":{...}}
// `index` counts ticks of that tick type from 0; `event` is the market event
// that produced the tick; `data` is the tick object of stream/tick_json.hpp
// (the same object `ib-stream --json` prints). A first subscriber of a
// contract receives exactly index 0, 1, 2, ... of its tick type.
// With a time range (`--from`, `--to`), every tick whose time is in
// [from, to) instead, event i at start_time + floor(i / rate) as with either
// clock; `index` still counts from the market's first tick.
//
// Thread-safety: plain object; one thread.
#pragma once

#include "sim/contract_catalog.hpp"

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace sim {

struct DumpOptions {
  int con_id = 0;
  std::uint64_t count = 0; // ticks per tick type
  std::uint64_t seed = 1;
  std::int64_t start_time = 0;
  double rate = 4.0;
  /// Time range [from, to) in Unix seconds; `count` is ignored when set.
  std::optional<std::int64_t> from;
  std::optional<std::int64_t> to;
};

class MarketDump {
public:
  MarketDump(const ContractCatalog& catalog, DumpOptions options);
  /// Writes the lines to `out`. Returns false and sets `error` when the
  /// contract is unknown.
  bool write(std::FILE* out, std::string& error) const;

private:
  const ContractCatalog& catalog_;
  DumpOptions options_;
};

} // namespace sim

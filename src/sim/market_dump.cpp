#include "sim/market_dump.hpp"

#include "sim/event_clock.hpp"
#include "sim/market.hpp"
#include "stream/tick_json.hpp"

#include <array>
#include <limits>

namespace sim {
namespace {

void append_header(std::string& out, std::string_view type, std::uint64_t index,
                   std::uint64_t event, int con_id) {
  out += "{\"tick_type\":\"";
  out += type;
  out += "\",\"index\":";
  out += std::to_string(index);
  out += ",\"event\":";
  out += std::to_string(event);
  out += ",\"con_id\":";
  out += std::to_string(con_id);
  out += ",\"data\":";
}

} // namespace

MarketDump::MarketDump(const ContractCatalog& catalog, DumpOptions options)
    : catalog_(catalog), options_(options) {}

bool MarketDump::write(std::FILE* out, std::string& error) const {
  const CatalogEntry* entry = catalog_.find(options_.con_id);
  if (entry == nullptr) {
    error = "unknown contract " + std::to_string(options_.con_id);
    return false;
  }
  Market market(entry->model, options_.seed, options_.con_id);
  // Same clock as the live feed (first segment: start + floor(i / rate)).
  const EventClock clock(options_.rate, options_.start_time, EventClock::Clock::time_point{});
  // Order: Last, AllLast, BidAsk, MidPoint (the tws::TickType codes 1..4).
  std::array<std::uint64_t, 4> emitted{};
  std::uint64_t n = options_.count;
  // Every tick type shows up within a few events; the cap only guards
  // against an endless loop should a model ever stop producing one.
  const std::uint64_t max_events = n * 1000 + 100000;
  std::string buf;
  auto flush_if_big = [&] {
    if (buf.size() > (1u << 20)) {
      std::fwrite(buf.data(), 1, buf.size(), out);
      buf.clear();
    }
  };
  const bool ranged = options_.from || options_.to;
  const std::int64_t from = options_.from.value_or(std::numeric_limits<std::int64_t>::min());
  const std::int64_t to = options_.to.value_or(std::numeric_limits<std::int64_t>::max());
  if (ranged && !options_.to) {
    error = "--from needs --to";
    return false;
  }
  if (ranged) n = std::numeric_limits<std::uint64_t>::max();
  auto done = [&] {
    if (ranged) return clock.unix_time(market.next_index()) >= to;
    for (auto c : emitted)
      if (c < n) return false;
    return true;
  };
  while (!done() && (ranged || market.next_index() < max_events)) {
    const std::uint64_t index = market.next_index();
    const std::int64_t time = clock.unix_time(index);
    MarketEvent ev = market.next(time);
    if (ranged && time < from) {
      // Outside the range: counted, not printed.
      if (ev.trade) {
        emitted[0] += ev.trade_in_last ? 1 : 0;
        ++emitted[1];
      }
      emitted[2] += ev.quote ? 1 : 0;
      emitted[3] += ev.mid ? 1 : 0;
      continue;
    }
    if (ev.trade) {
      if (ev.trade_in_last && emitted[0] < n) {
        tws::TickByTickLast last = *ev.trade;
        last.type = tws::TickType::last;
        append_header(buf, "Last", emitted[0]++, index, options_.con_id);
        stream::append_tick_json(buf, last);
        buf += "}\n";
      }
      if (emitted[1] < n) {
        append_header(buf, "AllLast", emitted[1]++, index, options_.con_id);
        stream::append_tick_json(buf, *ev.trade);
        buf += "}\n";
      }
    }
    if (ev.quote && emitted[2] < n) {
      append_header(buf, "BidAsk", emitted[2]++, index, options_.con_id);
      stream::append_tick_json(buf, *ev.quote);
      buf += "}\n";
    }
    if (ev.mid && emitted[3] < n) {
      append_header(buf, "MidPoint", emitted[3]++, index, options_.con_id);
      stream::append_tick_json(buf, *ev.mid);
      buf += "}\n";
    }
    flush_if_big();
  }
  std::fwrite(buf.data(), 1, buf.size(), out);
  std::fflush(out);
  return true;
}

} // namespace sim

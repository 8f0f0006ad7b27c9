#include "stream/tick_fields.hpp"

#include <cstring>

namespace stream {
namespace {

enum : std::uint8_t { kLast = 1, kBidAsk = 2, kMid = 3 };
enum : std::uint8_t {
  kFlagA = 1,    // past_limit / bid_past_low
  kFlagB = 2,    // unreported / ask_past_high
  kHasSize1 = 4, // size / bid_size
  kHasSize2 = 8, // ask_size
};

template <class T> void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

void put_string(std::string& out, std::string_view s) {
  const auto n = static_cast<std::uint16_t>(std::min<std::size_t>(s.size(), 0xffff));
  put(out, n);
  out.append(s.data(), n);
}

struct Reader {
  std::string_view in;
  bool ok = true;
  template <class T> T get() {
    T v{};
    if (in.size() < sizeof(T)) {
      ok = false;
      return v;
    }
    std::memcpy(&v, in.data(), sizeof(T));
    in.remove_prefix(sizeof(T));
    return v;
  }
  std::string get_string() {
    const auto n = get<std::uint16_t>();
    if (!ok || in.size() < n) {
      ok = false;
      return {};
    }
    std::string s(in.substr(0, n));
    in.remove_prefix(n);
    return s;
  }
};

} // namespace

void append_tick_fields(std::string& out, const tws::Tick& tick, std::int64_t recv_us) {
  if (const auto* t = std::get_if<tws::TickByTickLast>(&tick)) {
    std::uint8_t flags =
        (t->past_limit ? kFlagA : 0) | (t->unreported ? kFlagB : 0) | (t->size ? kHasSize1 : 0);
    put(out, kLast);
    put(out, static_cast<std::uint8_t>(t->type));
    put(out, flags);
    put(out, recv_us);
    put(out, t->time);
    put(out, t->price);
    put(out, t->size.value_or(0.0));
    put_string(out, t->exchange);
    put_string(out, t->special_conditions);
  } else if (const auto* q = std::get_if<tws::TickByTickBidAsk>(&tick)) {
    std::uint8_t flags = (q->bid_past_low ? kFlagA : 0) | (q->ask_past_high ? kFlagB : 0) |
                         (q->bid_size ? kHasSize1 : 0) | (q->ask_size ? kHasSize2 : 0);
    put(out, kBidAsk);
    put(out, std::uint8_t{3});
    put(out, flags);
    put(out, recv_us);
    put(out, q->time);
    put(out, q->bid_price);
    put(out, q->ask_price);
    put(out, q->bid_size.value_or(0.0));
    put(out, q->ask_size.value_or(0.0));
  } else if (const auto* m = std::get_if<tws::TickByTickMidPoint>(&tick)) {
    put(out, kMid);
    put(out, std::uint8_t{4});
    put(out, std::uint8_t{0});
    put(out, recv_us);
    put(out, m->time);
    put(out, m->mid_point);
  }
}

std::optional<TickFields> read_tick_fields(std::string_view packed) {
  Reader r{packed};
  const auto kind = r.get<std::uint8_t>();
  const auto type = r.get<std::uint8_t>();
  const auto flags = r.get<std::uint8_t>();
  TickFields f;
  f.recv_us = r.get<std::int64_t>();
  const auto time = r.get<std::int64_t>();
  if (!r.ok) return std::nullopt;
  switch (kind) {
  case kLast: {
    if (type != 1 && type != 2) return std::nullopt;
    tws::TickByTickLast t;
    t.type = static_cast<tws::TickType>(type);
    t.time = time;
    t.price = r.get<double>();
    const double size = r.get<double>();
    if (flags & kHasSize1) t.size = size;
    t.past_limit = flags & kFlagA;
    t.unreported = flags & kFlagB;
    t.exchange = r.get_string();
    t.special_conditions = r.get_string();
    f.tick = std::move(t);
    break;
  }
  case kBidAsk: {
    tws::TickByTickBidAsk q;
    q.time = time;
    q.bid_price = r.get<double>();
    q.ask_price = r.get<double>();
    const double bs = r.get<double>();
    const double as = r.get<double>();
    if (flags & kHasSize1) q.bid_size = bs;
    if (flags & kHasSize2) q.ask_size = as;
    q.bid_past_low = flags & kFlagA;
    q.ask_past_high = flags & kFlagB;
    f.tick = q;
    break;
  }
  case kMid: {
    tws::TickByTickMidPoint m;
    m.time = time;
    m.mid_point = r.get<double>();
    f.tick = m;
    break;
  }
  default: return std::nullopt;
  }
  if (!r.ok || !r.in.empty()) return std::nullopt;
  return f;
}

std::int64_t tick_time(const tws::Tick& tick) {
  return std::visit([](const auto& t) { return t.time; }, tick);
}

} // namespace stream

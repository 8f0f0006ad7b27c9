#include "cli/format.hpp"

#include "stream/tick_json.hpp"

#include <cmath>
#include <cstdio>

namespace cli {
namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string size_text(const tws::Decimal& d) { return d ? tws::format_number(*d) : "-"; }

std::string pad_left(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

std::string flags(std::initializer_list<std::pair<bool, const char*>> items) {
  std::string out;
  for (const auto& [set, name] : items) {
    if (!set) continue;
    out += out.empty() ? " | " : " ";
    out += name;
  }
  return out;
}

} // namespace

int price_decimals(double min_tick) {
  int decimals = 4;
  if (min_tick > 0) {
    // Smallest number of decimals that represents min_tick exactly enough.
    for (int d = 0; d <= 10; ++d) {
      const double scaled = min_tick * std::pow(10.0, d);
      if (std::fabs(scaled - std::round(scaled)) < 1e-9 * std::max(1.0, scaled)) {
        decimals = std::max(decimals, d);
        break;
      }
    }
  }
  return decimals;
}

std::string format_header(int con_id, tws::TickType type, int max_ticks) {
  std::string out = "Streaming " + std::string(tws::to_string(type)) + " ticks for contract " +
                    std::to_string(con_id);
  out += max_ticks > 0 ? " (max " + std::to_string(max_ticks) + " ticks)" : " (no tick limit)";
  return out;
}

std::string format_contract_line(const tws::ContractDetails& d) {
  const auto& c = d.contract;
  std::string out =
      "Contract: " + c.symbol + " " + c.sec_type + " " + c.local_symbol + " @ " + c.exchange;
  if (!c.primary_exchange.empty() && c.primary_exchange != c.exchange)
    out += " (" + c.primary_exchange + ")";
  out += " " + c.currency;
  if (!d.long_name.empty()) out += " - " + d.long_name;
  return out;
}

std::string format_tick_line(const tws::Tick& tick, int decimals) {
  return std::visit(
      [decimals](const auto& t) -> std::string {
        using T = std::decay_t<decltype(t)>;
        std::string line = stream::format_utc(t.time);
        if constexpr (std::is_same_v<T, tws::TickByTickLast>) {
          line += " | " + pad_left(fixed(t.price, decimals), 10);
          line += " | " + pad_left(size_text(t.size), 10);
          line += " | " + pad_left(t.exchange, 8);
          if (!t.special_conditions.empty()) line += " | " + t.special_conditions;
          line += flags({{t.past_limit, "PL"}, {t.unreported, "UR"}});
        } else if constexpr (std::is_same_v<T, tws::TickByTickBidAsk>) {
          line += " | Bid: " + pad_left(fixed(t.bid_price, decimals), 10) + " x " +
                  pad_left(size_text(t.bid_size), 6);
          line += " | Ask: " + pad_left(fixed(t.ask_price, decimals), 10) + " x " +
                  pad_left(size_text(t.ask_size), 6);
          line += flags({{t.bid_past_low, "BPL"}, {t.ask_past_high, "APH"}});
        } else {
          line += " | MidPoint: " + pad_left(fixed(t.mid_point, decimals), 10);
        }
        return line;
      },
      tick);
}

std::string format_tick_json(const tws::Tick& tick) {
  std::string out;
  std::visit([&out](const auto& t) { stream::append_tick_json(out, t); }, tick);
  return out;
}

} // namespace cli

#include "studies/study_output.hpp"

#include "stream/tick_json.hpp"

#include <cmath>
#include <cstdio>

namespace studies {
namespace {

void num(std::string& out, std::string_view key, double v, bool comma = true) {
  stream::append_json_string(out, key);
  out += ':';
  stream::append_json_number(out, v == 0.0 ? 0.0 : v); // no "-0"
  if (comma) out += ',';
}

void opt(std::string& out, std::string_view key, const std::optional<double>& v,
         bool comma = true) {
  if (v) return num(out, key, *v, comma);
  stream::append_json_string(out, key);
  out += ":null";
  if (comma) out += ',';
}

void count(std::string& out, std::string_view key, std::int64_t v) {
  stream::append_json_string(out, key);
  out += ':' + std::to_string(v) + ',';
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

/// Sizes and deltas: integers without decimals, fractional lots as needed.
std::string amount(double v, bool sign) {
  std::string s;
  if (v == 0.0) v = 0.0;
  if (sign && v > 0) s = "+";
  stream::append_json_number(s, v);
  return s;
}

std::string pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

std::string percent(const std::optional<double>& v) {
  return v ? fixed(*v, 1) + "%" : std::string("n/a");
}

} // namespace

std::string format_trade_json(const TradeResult& r, int contract_id,
                              std::string_view event_timestamp) {
  std::string out = "{\"study\":";
  stream::append_json_string(out, r.study);
  out += ",\"contract_id\":" + std::to_string(contract_id) + ",\"timestamp\":";
  stream::append_json_string(out, event_timestamp);

  out += ",\"current_trade\":{";
  num(out, "price", r.trade.price);
  num(out, "size", r.trade.size);
  num(out, "delta", r.delta);
  out += "\"side\":";
  stream::append_json_string(out, to_string(r.classification.side));
  out += ",\"basis\":";
  stream::append_json_string(out, to_string(r.classification.basis));
  out += ",\"tick_type\":";
  stream::append_json_string(out, r.trade.tick_type);
  out += ",\"timestamp\":";
  stream::append_json_string(out, r.trade.timestamp);
  out += ",\"unix_time\":" + std::to_string(r.trade.unix_time) + "}";

  out += ",\"current_quote\":{";
  if (r.quote) {
    num(out, "bid", r.quote->bid);
    num(out, "ask", r.quote->ask);
    num(out, "bid_size", r.quote->bid_size);
    num(out, "ask_size", r.quote->ask_size);
    num(out, "spread", r.quote->ask - r.quote->bid);
    out += "\"valid\":";
    out += r.quote->valid() ? "true" : "false";
  } else {
    out += "\"bid\":null,\"ask\":null,\"bid_size\":null,\"ask_size\":null,\"spread\":null,"
           "\"valid\":false";
  }
  out += '}';

  const auto& s = r.summary;
  out += ",\"summary\":{\"window_seconds\":" + std::to_string(s.window_seconds) + ',';
  count(out, "trade_count", s.trade_count);
  num(out, "total_buy_volume", s.total_buy_volume);
  num(out, "total_sell_volume", s.total_sell_volume);
  num(out, "total_neutral_volume", s.total_neutral_volume);
  num(out, "net_delta", s.net_delta);
  num(out, "cumulative_delta", s.cumulative_delta);
  opt(out, "buy_sell_ratio", s.buy_sell_ratio);
  opt(out, "buy_percentage", s.buy_percentage, false);
  out += '}';

  const auto& c = r.stats;
  out += ",\"calculation_stats\":{";
  count(out, "trades", c.trades);
  count(out, "bid_hits", c.bid_hits);
  count(out, "ask_hits", c.ask_hits);
  count(out, "inside_spread", c.inside_spread);
  count(out, "no_quote_trades", c.no_quote_trades);
  opt(out, "true_delta_percentage", c.true_delta_percentage(), false);
  out += "}}";
  return out;
}

int decimals_for(double price, int at_least) {
  for (int d = at_least; d < 8; ++d) {
    const double scaled = std::fabs(price) * std::pow(10.0, d);
    if (std::fabs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) return d;
  }
  return 8;
}

std::string format_header(std::string_view study, int contract_id, int window_seconds,
                          double neutral_zone_pct, std::string_view tick_types) {
  std::string out = std::string(study) + " study of contract " + std::to_string(contract_id) +
                    " (" + std::string(tick_types) + "; window " + std::to_string(window_seconds) +
                    " s of tick time";
  if (neutral_zone_pct > 0) {
    out += "; neutral zone ";
    stream::append_json_number(out, neutral_zone_pct);
    out += "% of the spread";
  }
  out += ")\n";
  out += pad("time (UTC)", 19) + " | " + pad("price", 12) + " | " + pad("size", 8) + " | " +
         pad("bid", 12) + " | " + pad("ask", 12) + " | " + pad("delta", 8) + " | " +
         pad("cumulative", 10);
  return out;
}

std::string format_row(const TradeResult& r, int decimals) {
  const bool quote = r.quote && r.quote->valid();
  std::string out = pad(r.trade.timestamp, 19);
  out += " | " + pad(fixed(r.trade.price, decimals), 12);
  out += " | " + pad(amount(r.trade.size, false), 8);
  out += " | " + pad(quote ? fixed(r.quote->bid, decimals) : "-", 12);
  out += " | " + pad(quote ? fixed(r.quote->ask, decimals) : "-", 12);
  out += " | " + pad(amount(r.delta, true), 8);
  out += " | " + pad(amount(r.summary.cumulative_delta, true), 10);
  switch (r.classification.basis) {
  case Basis::ask_hit: out += "  ask hit"; break;
  case Basis::bid_hit: out += "  bid hit"; break;
  case Basis::inside_spread: out += "  inside"; break;
  case Basis::tick_rule:
    out += r.classification.side == Side::buy    ? "  uptick"
           : r.classification.side == Side::sell ? "  downtick"
                                                 : "  unchanged";
    break;
  }
  return out;
}

std::string format_summary(std::string_view title, const WindowSummary& s,
                           const CalculationStats& c) {
  std::string out = "--- " + std::string(title) + " (last " + std::to_string(s.window_seconds) +
                    " s of tick time) ---\n";
  out += "trades " + std::to_string(s.trade_count) + " | buys " +
         amount(s.total_buy_volume, false) + " | sells " + amount(s.total_sell_volume, false) +
         " | neutral " + amount(s.total_neutral_volume, false) + " | net delta " +
         amount(s.net_delta, true) + " | cumulative delta " + amount(s.cumulative_delta, true) +
         "\n";
  out += "buy/sell ratio " + (s.buy_sell_ratio ? fixed(*s.buy_sell_ratio, 2) : "n/a") +
         " | buy percentage " + percent(s.buy_percentage) + "\n";
  out += "since start: trades " + std::to_string(c.trades) + " | bid hits " +
         std::to_string(c.bid_hits) + " | ask hits " + std::to_string(c.ask_hits) +
         " | inside spread " + std::to_string(c.inside_spread) + " | no-quote trades " +
         std::to_string(c.no_quote_trades) + " | true delta " + percent(c.true_delta_percentage());
  return out;
}

} // namespace studies

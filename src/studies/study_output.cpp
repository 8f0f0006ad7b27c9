#include "studies/study_output.hpp"

#include "stream/json_writer.hpp"
#include "stream/tick_json.hpp"

#include <cmath>
#include <cstdio>

namespace studies {
namespace {

/// No "-0": a zero delta prints as 0.
double unsigned_zero(double v) { return v == 0.0 ? 0.0 : v; }

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
  std::string out;
  stream::JsonWriter w(out);
  w.begin_object()
      .member("study", r.study)
      .member("contract_id", contract_id)
      .member("timestamp", event_timestamp);

  w.key("current_trade")
      .begin_object()
      .member("price", unsigned_zero(r.trade.price))
      .member("size", unsigned_zero(r.trade.size))
      .member("delta", unsigned_zero(r.delta))
      .member("side", to_string(r.classification.side))
      .member("basis", to_string(r.classification.basis))
      .member("tick_type", r.trade.tick_type)
      .member("timestamp", r.trade.timestamp)
      .member("unix_time", static_cast<long long>(r.trade.unix_time))
      .end_object();

  w.key("current_quote").begin_object();
  if (r.quote) {
    w.member("bid", unsigned_zero(r.quote->bid))
        .member("ask", unsigned_zero(r.quote->ask))
        .member("bid_size", unsigned_zero(r.quote->bid_size))
        .member("ask_size", unsigned_zero(r.quote->ask_size))
        .member("spread", unsigned_zero(r.quote->ask - r.quote->bid))
        .member("valid", r.quote->valid());
  } else {
    for (const char* k : {"bid", "ask", "bid_size", "ask_size", "spread"}) w.key(k).null();
    w.member("valid", false);
  }
  w.end_object();

  const auto opt = [&w](std::string_view key, const std::optional<double>& v) {
    if (v) w.member(key, unsigned_zero(*v));
    else w.key(key).null();
  };
  const auto& s = r.summary;
  w.key("summary")
      .begin_object()
      .member("window_seconds", s.window_seconds)
      .member("trade_count", static_cast<long long>(s.trade_count))
      .member("total_buy_volume", unsigned_zero(s.total_buy_volume))
      .member("total_sell_volume", unsigned_zero(s.total_sell_volume))
      .member("total_neutral_volume", unsigned_zero(s.total_neutral_volume))
      .member("net_delta", unsigned_zero(s.net_delta))
      .member("cumulative_delta", unsigned_zero(s.cumulative_delta));
  opt("buy_sell_ratio", s.buy_sell_ratio);
  opt("buy_percentage", s.buy_percentage);
  w.end_object();

  const auto& c = r.stats;
  w.key("calculation_stats")
      .begin_object()
      .member("trades", static_cast<long long>(c.trades))
      .member("bid_hits", static_cast<long long>(c.bid_hits))
      .member("ask_hits", static_cast<long long>(c.ask_hits))
      .member("inside_spread", static_cast<long long>(c.inside_spread))
      .member("no_quote_trades", static_cast<long long>(c.no_quote_trades));
  opt("true_delta_percentage", c.true_delta_percentage());
  w.end_object().end_object().flush();
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

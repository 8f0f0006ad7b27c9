#include "http/history_format.hpp"

#include "stream/json_writer.hpp"
#include "stream/tick_json.hpp"

#include <cstdio>

namespace http {
namespace {

using stream::JsonWriter;

/// The tick as stored, its time the row's IB time (and a Last row's kind
/// the row's tick type), whatever the stored tick says.
template <class T> const T& normalized(const T& t, const store::TickRecord& r, T& copy) {
  bool same = t.time == r.ib_time;
  if constexpr (std::is_same_v<T, tws::TickByTickLast>)
    same = same && (t.type == r.tick_type || r.tick_type == tws::TickType::bid_ask ||
                    r.tick_type == tws::TickType::mid_point);
  if (same) return t;
  copy = t;
  copy.time = r.ib_time;
  if constexpr (std::is_same_v<T, tws::TickByTickLast>) copy.type = r.tick_type;
  return copy;
}

void csv_field(std::string& out, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += s;
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void csv_number(std::string& out, double v) {
  out += ',';
  if (std::isfinite(v)) tws::append_number(out, v);
}
void csv_decimal(std::string& out, const tws::Decimal& d) {
  if (d) csv_number(out, *d);
  else out += ',';
}
void csv_bool(std::string& out, bool b) { out += b ? ",true" : ",false"; }

void iso_or_null(JsonWriter& w, std::string_view name, std::optional<std::int64_t> ms) {
  if (!ms) {
    w.key(name).null();
    return;
  }
  char buf[32];
  w.member(name, stream::format_iso_ms(buf, *ms));
}

} // namespace

void append_record_json(std::string& out, const store::TickRecord& r) {
  std::visit(
      [&](const auto& t) {
        std::decay_t<decltype(t)> copy;
        stream::append_tick_json(out, normalized(t, r, copy));
      },
      r.tick);
  out.pop_back(); // the object's '}': seq and source follow
  out += ",\"seq\":";
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, r.seq).ptr);
  // A backfilled tick's position in its gap: with seq, its place in the
  // record (the SSE id seq.sub); live ticks have none.
  if (r.sub != 0) {
    out += ",\"sub\":";
    out.append(buf, std::to_chars(buf, buf + sizeof buf, r.sub).ptr);
  }
  out += r.source == store::Source::live ? ",\"source\":\"live\"}" : ",\"source\":\"backfill\"}";
}

void append_csv_header(std::string& out, tws::TickType type) {
  out += "seq,source,unix_time,timestamp,";
  switch (type) {
  case tws::TickType::last:
  case tws::TickType::all_last:
    out += "price,size,exchange,conditions,past_limit,unreported\r\n";
    break;
  case tws::TickType::bid_ask:
    out += "bid_price,ask_price,bid_size,ask_size,bid_past_low,ask_past_high\r\n";
    break;
  case tws::TickType::mid_point: out += "midpoint\r\n"; break;
  }
}

void append_csv_row(std::string& out, const store::TickRecord& r) {
  char buf[64];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, r.seq).ptr);
  out += ',';
  out += store::to_string(r.source);
  out += ',';
  out.append(buf, std::to_chars(buf, buf + sizeof buf, r.ib_time).ptr);
  out += ',';
  out.append(buf, stream::write_utc_text(buf, r.ib_time));
  if (const auto* t = std::get_if<tws::TickByTickLast>(&r.tick)) {
    csv_number(out, t->price);
    csv_decimal(out, t->size);
    out += ',';
    csv_field(out, t->exchange);
    out += ',';
    csv_field(out, t->special_conditions);
    csv_bool(out, t->past_limit);
    csv_bool(out, t->unreported);
  } else if (const auto* q = std::get_if<tws::TickByTickBidAsk>(&r.tick)) {
    csv_number(out, q->bid_price);
    csv_number(out, q->ask_price);
    csv_decimal(out, q->bid_size);
    csv_decimal(out, q->ask_size);
    csv_bool(out, q->bid_past_low);
    csv_bool(out, q->ask_past_high);
  } else if (const auto* m = std::get_if<tws::TickByTickMidPoint>(&r.tick)) {
    csv_number(out, m->mid_point);
  }
  out += "\r\n";
}

void append_history_json_head(std::string& out, const HistoryRequest& req) {
  JsonWriter w(out);
  w.begin_object()
      .member("contract_id", req.contract_id)
      .member("tick_type", tws::to_string(req.tick_type));
  iso_or_null(w, "start", req.start_ms);
  iso_or_null(w, "end", req.end_ms);
  w.key("ticks");
  w.flush();
  out += '[';
}

void append_history_json_tail(std::string& out, const std::optional<std::string>& next) {
  out += "],\"next\":";
  if (next) stream::append_json_string(out, *next);
  else out += "null";
  out += "}\n";
}

std::string history_summary_json(int con_id, const std::vector<store::StreamSummary>& streams,
                                 const std::vector<store::Gap>& gaps) {
  std::string out;
  JsonWriter w(out);
  char buf[32];
  const auto time_pair = [&](std::string_view iso_key, std::string_view unix_key,
                             std::int64_t unix) {
    if (unix == 0) {
      w.key(iso_key).null().key(unix_key).null();
      return;
    }
    w.member(iso_key, stream::format_iso_ms(buf, unix * 1000)).key(unix_key).integer(unix);
  };
  w.begin_object().member("contract_id", con_id).key("tick_types").begin_array();
  for (const auto& s : streams) {
    w.begin_object().member("tick_type", tws::to_string(s.tick_type)).key("first").begin_object();
    time_pair("time", "unix_time", s.first_time);
    w.member("seq", s.first_seq).end_object().key("last").begin_object();
    time_pair("time", "unix_time", s.last_time);
    w.member("seq", s.last_seq)
        .end_object()
        .member("rows", s.live + s.backfill)
        .member("live", s.live)
        .member("backfill", s.backfill)
        .key("per_day")
        .begin_object();
    for (const auto& [day, rows] : s.per_day) {
      if (!stream::is_plain_json_text(day)) continue; // "YYYY-MM-DD" always is
      w.key(std::string_view(day)).uinteger(rows);
    }
    w.end_object().end_object();
  }
  w.end_array().key("gaps").begin_array();
  for (const auto& g : gaps) {
    w.begin_object()
        .member("id", static_cast<long long>(g.id))
        .member("tick_type", tws::to_string(g.tick_type))
        .member("state", store::to_string(g.state))
        .member("after_seq", g.after_seq);
    time_pair("from", "from_unix", g.from_time);
    time_pair("to", "to_unix", g.to_time);
    w.member("filled_ticks", g.filled_ticks).member("reason", g.reason).member("detail", g.detail);
    time_pair("opened", "opened_unix", g.opened_unix);
    time_pair("updated", "updated_unix", g.updated_unix);
    w.end_object();
  }
  w.end_array().member("timestamp", stream::iso_now(buf)).end_object();
  w.flush();
  return out;
}

void append_chunk(std::string& out, std::string_view data) {
  if (data.empty()) return;
  char size[20];
  const int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  out.append(size, static_cast<std::size_t>(n));
  out += data;
  out += "\r\n";
}

} // namespace http

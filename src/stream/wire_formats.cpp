#include "stream/wire_formats.hpp"

#include "stream/json_writer.hpp"

#include <charconv>

namespace stream {

void append_sse_tick(std::string& out, const TickParts& t) {
  char id[24];
  out += "id: ";
  out.append(id, std::to_chars(id, id + sizeof id, t.seq).ptr);
  out += "\ndata: ";
  {
    JsonWriter e(out);
    e.begin_object()
        .member("type", "tick")
        .member("contract_id", t.con_id)
        .member("timestamp", t.iso_time)
        .key("data")
        .raw(t.data_json)
        .end_object();
  }
  out += "\n\n";
}

void append_ws_tick_suffix(std::string& out, const TickParts& t) {
  JsonWriter w(out);
  w.member("contract_id", t.con_id)
      .member("tick_type", tws::to_string(t.tick_type))
      .member("timestamp", t.iso_time)
      .key("data")
      .raw(t.data_json)
      .end_object();
}

std::optional<std::pair<std::string_view, std::string_view>>
parse_ws_tick_suffix(std::string_view suffix) {
  // `"contract_id":<n>,"tick_type":"<t>","timestamp":"<iso>","data":{...}}`
  constexpr std::string_view kTime = ",\"timestamp\":\"", kData = "\",\"data\":";
  if (!suffix.starts_with("\"contract_id\":") || !suffix.ends_with("}}")) return std::nullopt;
  const auto t = suffix.find(kTime);
  if (t == std::string_view::npos) return std::nullopt;
  const auto iso_at = t + kTime.size();
  const auto d = suffix.find(kData, iso_at);
  if (d == std::string_view::npos) return std::nullopt;
  const auto data_at = d + kData.size();
  if (data_at + 2 > suffix.size() || suffix[data_at] != '{') return std::nullopt;
  return std::pair{suffix.substr(iso_at, d - iso_at),
                   suffix.substr(data_at, suffix.size() - 1 - data_at)};
}

void append_sse_notice(std::string& out, const NoticeParts& n) {
  out += "data: ";
  {
    JsonWriter w(out);
    w.begin_object()
        .member("type", n.error ? "error" : "info")
        .member("contract_id", n.con_id)
        .member("timestamp", n.iso_time);
    if (n.error) {
      w.key("error");
      write_error(w, n.code, n.message, n.details);
    } else {
      w.key("info")
          .begin_object()
          .member("message", n.message)
          .member("tick_type", tws::to_string(n.tick_type))
          .member("stream_id", n.stream_key)
          .key("contract");
      write_contract(w, n.contract ? *n.contract : ContractInfo{});
      w.member("code", n.code);
      if (!n.details.empty()) w.member("details", n.details);
      if (!n.next_open.empty()) w.member("next_open", n.next_open);
      w.end_object();
    }
    w.end_object();
  }
  out += "\n\n";
}

void append_ws_notice_suffix(std::string& out, const NoticeParts& n) {
  JsonWriter w(out);
  w.member("timestamp", n.iso_time);
  if (n.error) {
    w.key("error");
    write_error(w, n.code, n.message, n.details);
  } else {
    w.key("info").begin_object().member("message", n.message).member("code", n.code);
    if (!n.details.empty()) w.member("details", n.details);
    if (!n.next_open.empty()) w.member("next_open", n.next_open);
    w.end_object();
  }
  w.end_object();
}

void append_ws_prefix(std::string& out, std::string_view type, std::string_view request_id) {
  JsonWriter w(out);
  w.begin_object().member("type", type).member("request_id", request_id);
  w.flush();
  out += ',';
}

} // namespace stream

#include "http/history_params.hpp"

#include "stream/tick_json.hpp"

#include <boost/url/parse_query.hpp>

#include <array>
#include <charconv>
#include <cmath>
#include <map>

namespace http {
namespace {

constexpr std::string_view kTimeForms =
    "ISO-8601 (2026-12-04T15:30:00Z, 2026-12-04T10:30:00-05:00), a UTC day (2026-12-04), "
    "Unix seconds (1733326200) or Unix milliseconds (1733326200123)";

ApiError invalid(std::string message, std::string details = {}) {
  return ApiError{400, "INVALID_PARAMETER", std::move(message), std::move(details)};
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

/// Exactly `n` digits at `s[pos]`.
std::optional<int> digits_at(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size() || !all_digits(s.substr(pos, n))) return std::nullopt;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) v = v * 10 + (s[pos + i] - '0');
  return v;
}

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

/// ISO-8601 date or date-time; nullopt when malformed.
std::optional<std::int64_t> parse_iso(std::string_view s) {
  const auto y = digits_at(s, 0, 4), mo = digits_at(s, 5, 2), d = digits_at(s, 8, 2);
  if (!y || !mo || !d || s[4] != '-' || s[7] != '-' || *y < 1970 || *mo < 1 || *mo > 12 || *d < 1 ||
      *d > days_in_month(*y, *mo))
    return std::nullopt;
  std::int64_t ms =
      days_from_civil(*y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d)) * 86400000;
  if (s.size() == 10) return ms;
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return std::nullopt;
  const auto h = digits_at(s, 11, 2), mi = digits_at(s, 14, 2);
  if (!h || !mi || s.size() < 16 || s[13] != ':' || *h > 23 || *mi > 59) return std::nullopt;
  ms += (*h * 3600LL + *mi * 60LL) * 1000;
  std::size_t pos = 16;
  if (pos < s.size() && s[pos] == ':') {
    const auto sec = digits_at(s, pos + 1, 2);
    if (!sec || *sec > 59) return std::nullopt;
    ms += *sec * 1000LL;
    pos += 3;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      std::size_t end = pos + 1;
      while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
      if (end == pos + 1 || end - pos - 1 > 9) return std::nullopt;
      int frac_ms = 0, scale = 100;
      for (std::size_t i = pos + 1; i < end && scale > 0; ++i, scale /= 10)
        frac_ms += (s[i] - '0') * scale;
      ms += frac_ms;
      pos = end;
    }
  }
  if (pos == s.size()) return ms; // no offset: UTC
  if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) return ms;
  if (s[pos] != '+' && s[pos] != '-') return std::nullopt;
  const int sign = s[pos] == '+' ? 1 : -1;
  const auto oh = digits_at(s, pos + 1, 2);
  std::optional<int> om = 0;
  if (!oh) return std::nullopt;
  const std::size_t rest = s.size() - (pos + 3);
  if (rest == 3 && s[pos + 3] == ':') om = digits_at(s, pos + 4, 2);
  else if (rest == 2) om = digits_at(s, pos + 3, 2);
  else if (rest != 0) return std::nullopt;
  if (!om || *oh > 23 || *om > 59) return std::nullopt;
  ms -= sign * (*oh * 3600LL + *om * 60LL) * 1000;
  return ms < 0 ? std::nullopt : std::optional<std::int64_t>(ms);
}

// ---------------------------------------------------------------- cursor

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::uint8_t kCursorVersion = 1;
constexpr std::size_t kCursorBytes = 1 + 4 + 1 + 1 + 8 + 8 + 8 + 4 + 4;

std::uint32_t checksum(const std::uint8_t* p, std::size_t n) {
  std::uint32_t h = 0x811c9dc5u ^ 0x1b5u; // FNV-1a, salted: tokens are ours only
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 16777619u;
  return h;
}

template <class T> void put(std::uint8_t*& p, T v) {
  auto u = static_cast<std::uint64_t>(v);
  for (std::size_t i = 0; i < sizeof(T); ++i, u >>= 8) *p++ = static_cast<std::uint8_t>(u);
}
template <class T> T take(const std::uint8_t*& p) {
  std::uint64_t u = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) u |= static_cast<std::uint64_t>(*p++) << (8 * i);
  return static_cast<T>(u);
}

std::string base64url(const std::uint8_t* p, std::size_t n) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    acc = (acc << 8) | p[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kB64[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kB64[(acc << (6 - bits)) & 63];
  return out;
}

std::optional<std::vector<std::uint8_t>> unbase64url(std::string_view s) {
  std::vector<std::uint8_t> out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-') v = 62;
    else if (c == '_') v = 63;
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
    }
  }
  if (bits >= 6 || (acc & ((1u << bits) - 1)) != 0) return std::nullopt; // not canonical
  return out;
}

// ---------------------------------------------------------------- queries

using Params = std::map<std::string, std::string>;

/// The known parameters of `query` (unknown ones are ignored, as on the
/// stream endpoints); a repeated or valueless one is an error.
std::optional<ApiError> collect(std::string_view query, std::initializer_list<const char*> known,
                                Params& out) {
  auto parsed = boost::urls::parse_query(query);
  if (!parsed) return invalid("Malformed query string", std::string(query));
  for (const auto& p : *parsed) {
    const std::string key = p.key.decode();
    bool is_known = false;
    for (const char* k : known) is_known = is_known || key == k;
    if (!is_known) continue;
    if (!p.has_value) return invalid("Parameter '" + key + "' needs a value");
    if (!out.emplace(key, p.value.decode()).second)
      return invalid("Parameter '" + key + "' is repeated; give it once");
  }
  return std::nullopt;
}

std::optional<int> contract_of(std::string_view segment, std::optional<ApiError>& err) {
  const auto id = parse_contract_id(segment);
  if (!id)
    err = invalid("Invalid contract_id '" + std::string(segment) +
                  "': must be a positive integer up to 2147483647 (an IB conId)");
  return id;
}

/// start / end / duration into [start, end): `end` defaults to now; a
/// duration ends at `end`.
std::optional<ApiError> parse_range(const Params& p, std::int64_t now_ms,
                                    std::optional<std::int64_t>& start, std::int64_t& end) {
  end = now_ms;
  if (auto it = p.find("end"); it != p.end()) {
    auto v = parse_time_param("end", it->second);
    if (auto* e = std::get_if<ApiError>(&v)) return *e;
    end = std::get<std::int64_t>(v);
  }
  const auto s = p.find("start");
  const auto d = p.find("duration");
  if (s != p.end() && d != p.end())
    return invalid("Parameters 'start' and 'duration' cannot be used together: give start (and "
                   "end), or duration (ending at end, default now)");
  if (s != p.end()) {
    auto v = parse_time_param("start", s->second);
    if (auto* e = std::get_if<ApiError>(&v)) return *e;
    start = std::get<std::int64_t>(v);
  } else if (d != p.end()) {
    auto v = parse_duration_param(d->second);
    if (auto* e = std::get_if<ApiError>(&v)) return *e;
    start = std::max<std::int64_t>(0, end - std::get<std::int64_t>(v) * 1000);
  }
  if (start && *start >= end)
    return invalid("Invalid start " + stream::format_iso_ms(*start) + ": must be before end " +
                   stream::format_iso_ms(end));
  return std::nullopt;
}

} // namespace

std::string_view to_string(HistoryFormat f) {
  switch (f) {
  case HistoryFormat::json: return "json";
  case HistoryFormat::ndjson: return "ndjson";
  case HistoryFormat::csv: return "csv";
  }
  return "json";
}

std::string encode_cursor(const HistoryCursor& c) {
  std::array<std::uint8_t, kCursorBytes> b{};
  std::uint8_t* p = b.data();
  put<std::uint8_t>(p, kCursorVersion);
  put<std::int32_t>(p, c.contract_id);
  put<std::uint8_t>(p, static_cast<std::uint8_t>(c.tick_type));
  put<std::uint8_t>(p, c.start_ms ? 1 : 0);
  put<std::int64_t>(p, c.start_ms.value_or(0));
  put<std::int64_t>(p, c.end_ms);
  put<std::uint64_t>(p, c.after.seq);
  put<std::uint32_t>(p, c.after.sub);
  put<std::uint32_t>(p, checksum(b.data(), kCursorBytes - 4));
  return base64url(b.data(), b.size());
}

std::optional<HistoryCursor> decode_cursor(std::string_view token) {
  const auto bytes = unbase64url(token);
  if (!bytes || bytes->size() != kCursorBytes) return std::nullopt;
  const std::uint8_t* p = bytes->data();
  if (take<std::uint8_t>(p) != kCursorVersion) return std::nullopt;
  HistoryCursor c;
  c.contract_id = take<std::int32_t>(p);
  const auto type = take<std::uint8_t>(p);
  const auto has_start = take<std::uint8_t>(p);
  const auto start = take<std::int64_t>(p);
  c.end_ms = take<std::int64_t>(p);
  c.after.seq = take<std::uint64_t>(p);
  c.after.sub = take<std::uint32_t>(p);
  if (take<std::uint32_t>(p) != checksum(bytes->data(), kCursorBytes - 4)) return std::nullopt;
  if (c.contract_id <= 0 || type < 1 || type > 4 || has_start > 1 || c.end_ms < 0 || start < 0)
    return std::nullopt;
  c.tick_type = static_cast<tws::TickType>(type);
  if (has_start) c.start_ms = start;
  return c;
}

std::variant<std::int64_t, ApiError> parse_time_param(std::string_view name,
                                                      std::string_view text) {
  const auto bad = [&] {
    return invalid("Invalid " + std::string(name) + " '" + std::string(text) + "': must be " +
                   std::string(kTimeForms));
  };
  if (all_digits(text)) {
    if (text.size() > 16) return bad(); // beyond the year 2286 in milliseconds
    std::int64_t v = 0;
    std::from_chars(text.data(), text.data() + text.size(), v);
    return text.size() >= 13 ? v : v * 1000;
  }
  if (const auto ms = parse_iso(text)) return *ms;
  return bad();
}

std::variant<std::int64_t, ApiError> parse_duration_param(std::string_view text) {
  const auto bad = [&] {
    return invalid("Invalid duration '" + std::string(text) +
                   "': must be a whole number with a unit s, m, h or d (90s, 15m, 2h, 7d), at "
                   "most 36500d");
  };
  if (text.size() < 2 || text.size() > 12) return bad();
  const std::string_view digits = text.substr(0, text.size() - 1);
  if (!all_digits(digits)) return bad();
  std::int64_t n = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), n);
  std::int64_t unit = 0;
  switch (text.back()) {
  case 's': unit = 1; break;
  case 'm': unit = 60; break;
  case 'h': unit = 3600; break;
  case 'd': unit = 86400; break;
  default: return bad();
  }
  if (n <= 0 || n > kMaxDurationSeconds / unit) return bad();
  return n * unit;
}

std::variant<HistoryRequest, ApiError> parse_history_request(std::string_view contract_segment,
                                                             std::string_view tick_type_segment,
                                                             std::string_view query,
                                                             std::int64_t now_ms) {
  HistoryRequest req;
  std::optional<ApiError> err;
  const auto id = contract_of(contract_segment, err);
  if (!id) return *err;
  req.contract_id = *id;
  const auto type = tws::parse_tick_type_nocase(tick_type_segment);
  if (!type)
    return invalid("Invalid tick_type '" + std::string(tick_type_segment) +
                   "': must be one of Last, AllLast, BidAsk, MidPoint");
  req.tick_type = *type;

  Params p;
  if (auto e = collect(query, {"start", "end", "duration", "limit", "format", "cursor"}, p))
    return *e;
  if (auto it = p.find("limit"); it != p.end()) {
    const std::string& v = it->second;
    std::size_t n = 0;
    const bool digits = all_digits(v) && v.size() <= 7;
    if (digits) std::from_chars(v.data(), v.data() + v.size(), n);
    if (!digits || n < 1 || n > kHistoryMaxLimit)
      return invalid("Invalid limit '" + v + "': must be an integer from 1 to " +
                     std::to_string(kHistoryMaxLimit));
    req.limit = n;
  }
  if (auto it = p.find("format"); it != p.end()) {
    if (it->second == "json") req.format = HistoryFormat::json;
    else if (it->second == "ndjson") req.format = HistoryFormat::ndjson;
    else if (it->second == "csv") req.format = HistoryFormat::csv;
    else return invalid("Invalid format '" + it->second + "': must be json, ndjson or csv");
  }
  if (auto e = parse_range(p, now_ms, req.start_ms, req.end_ms)) return *e;

  if (auto it = p.find("cursor"); it != p.end()) {
    const auto c = decode_cursor(it->second);
    if (!c)
      return invalid("Invalid cursor: not a cursor of this server; pass the `next` of the "
                     "previous page as it is");
    if (c->contract_id != req.contract_id || c->tick_type != req.tick_type)
      return invalid("Invalid cursor: it pages contract " + std::to_string(c->contract_id) + " " +
                     std::string(tws::to_string(c->tick_type)) + ", not this one");
    // The cursor carries the range of the first page; a start or end given
    // again must be the same (a duration moves with the clock: ignored).
    if ((p.count("start") && req.start_ms != c->start_ms) ||
        (p.count("end") && req.end_ms != c->end_ms))
      return invalid("Invalid cursor: it pages another range than this start/end; drop start, "
                     "end and duration when paging");
    req.start_ms = c->start_ms;
    req.end_ms = c->end_ms;
    req.after = c->after;
  }
  return req;
}

std::variant<ReplayRequest, ApiError> parse_replay_request(std::string_view contract_segment,
                                                           std::string_view query,
                                                           std::int64_t now_ms) {
  ReplayRequest req;
  std::optional<ApiError> err;
  const auto id = contract_of(contract_segment, err);
  if (!id) return *err;
  req.contract_id = *id;

  Params p;
  if (auto e = collect(query, {"tick_types", "start", "end", "duration", "speed"}, p)) return *e;
  const auto types = p.find("tick_types");
  const std::string kTypesForm = "a comma-separated list of Last, AllLast, BidAsk, MidPoint "
                                 "(each at most once), e.g. tick_types=BidAsk,Last";
  if (types == p.end()) return invalid("Parameter 'tick_types' is required: " + kTypesForm);
  std::string_view rest = types->second;
  while (true) {
    const auto comma = rest.find(',');
    const auto name = rest.substr(0, comma);
    const auto t = tws::parse_tick_type_nocase(name);
    if (!t)
      return invalid("Invalid tick_types '" + types->second + "': '" + std::string(name) +
                     "' is not a tick type; must be " + kTypesForm);
    for (auto have : req.tick_types)
      if (have == *t)
        return invalid("Invalid tick_types '" + types->second + "': " +
                       std::string(tws::to_string(*t)) + " is repeated; must be " + kTypesForm);
    req.tick_types.push_back(*t);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  if (!p.count("start") && !p.count("duration"))
    return invalid("Parameter 'start' is required (or 'duration', ending at end): " +
                   std::string(kTimeForms));
  if (!p.count("end") && !p.count("duration"))
    return invalid("Parameter 'end' is required (with start): " + std::string(kTimeForms));
  std::optional<std::int64_t> start;
  if (auto e = parse_range(p, now_ms, start, req.end_ms)) return *e;
  req.start_ms = *start;

  if (auto it = p.find("speed"); it != p.end()) {
    const std::string& v = it->second;
    if (v == "max") {
      req.speed = 0;
    } else {
      double s = 0;
      const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), s);
      if (v.empty() || ec != std::errc{} || ptr != v.data() + v.size() || !std::isfinite(s) ||
          s < 0.01 || s > 100000)
        return invalid("Invalid speed '" + v +
                       "': must be max or a number from 0.01 to 100000 (1 = the recorded pace, "
                       "10 = ten times faster)");
      req.speed = s;
    }
  }
  return req;
}

} // namespace http

#include "tws/wire.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace tws {
namespace {

class WireCategory final : public std::error_category {
public:
  const char* name() const noexcept override { return "tws-wire"; }
  std::string message(int ev) const override {
    switch (static_cast<WireError>(ev)) {
    case WireError::ok: return "ok";
    case WireError::zero_length_frame: return "frame with length 0";
    case WireError::oversized_frame: return "frame longer than the 16 MiB cap";
    case WireError::unterminated_payload: return "payload does not end with NUL";
    case WireError::missing_field: return "message has fewer fields than its layout";
    case WireError::bad_integer: return "integer field holds a non-integer";
    case WireError::bad_double: return "double field holds a non-number";
    case WireError::bad_decimal: return "decimal field holds a non-number";
    case WireError::bad_handshake: return "malformed handshake";
    case WireError::unknown_message: return "unknown message id";
    case WireError::unsupported_version: return "unsupported server version";
    case WireError::bad_value: return "field value out of range";
    }
    return "unknown wire error";
  }
};

bool is_unset_decimal_literal(std::string_view s) {
  return s == "2147483647" || s == "9223372036854775807" || s == "1.7976931348623157E308";
}

/// For an unsigned decimal number that from_chars found out of range: true
/// when it is too large (overflow), false when too small (underflow). Looks
/// at the decimal exponent of its first significant digit.
bool exceeds_double_range(std::string_view s) {
  const auto e = s.find_first_of("eE");
  const std::string_view mantissa = s.substr(0, e);
  const auto point = mantissa.find('.');
  const std::string_view int_part = mantissa.substr(0, point);
  long long lead = 0;
  if (const auto nz = int_part.find_first_not_of('0'); nz != std::string_view::npos) {
    lead = static_cast<long long>(int_part.size() - nz) - 1;
  } else {
    if (point == std::string_view::npos) return false;
    const auto fz = mantissa.substr(point + 1).find_first_not_of('0');
    if (fz == std::string_view::npos) return false;
    lead = -static_cast<long long>(fz) - 1;
  }
  long long exp10 = 0;
  if (e != std::string_view::npos) {
    std::string_view text = s.substr(e + 1);
    const bool negative = !text.empty() && text[0] == '-';
    if (!text.empty() && (text[0] == '-' || text[0] == '+')) text.remove_prefix(1);
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), exp10);
    if (ec == std::errc::result_out_of_range || exp10 > 1'000'000'000'000) return !negative;
    if (negative) exp10 = -exp10;
  }
  return lead + exp10 > 0;
}

} // namespace

const std::error_category& wire_category() noexcept {
  static const WireCategory category;
  return category;
}

// ---------------------------------------------------------------- numbers

char* write_number(char* p, double v) {
  constexpr std::size_t n = kMaxNumberChars;
  if (std::isinf(v)) {
    const std::string_view text = v > 0 ? "Infinity" : "-Infinity";
    std::memcpy(p, text.data(), text.size());
    return p + text.size();
  }
  if (std::isnan(v)) {
    std::memcpy(p, "NaN", 3);
    return p + 3;
  }
  // Integral values below 2^53 print as their integer digits in every form.
  if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0) {
    if (v == 0) {
      if (std::signbit(v)) *p++ = '-';
      *p++ = '0';
      return p;
    }
    return std::to_chars(p, p + n, static_cast<std::int64_t>(v)).ptr;
  }
  // Shortest round-trip digits in Python repr's notation: fixed for decimal
  // exponents -4..15, else scientific ("100000", "0.0001", "1e-05", "1e+16").
  // Plain to_chars picks whichever text is shorter ("1e+05", "1e-04", ...),
  // so one conversion is enough unless it picked the other notation.
  const auto plain = std::to_chars(p, p + n, v);
  const char* e = std::find(p, plain.ptr, 'e');
  if (e != plain.ptr) {
    int exp10 = 0;
    std::from_chars(e + (e[1] == '+' ? 2 : 1), plain.ptr, exp10);
    if (exp10 < -4 || exp10 >= 16) return plain.ptr;
    return std::to_chars(p, p + n, v, std::chars_format::fixed).ptr;
  }
  // Fixed: its decimal exponent is where the first significant digit is.
  const char* q = p + (*p == '-' ? 1 : 0);
  const char* const stop = plain.ptr;
  int exp10 = 0;
  if (*q != '0') {
    const char* point = std::find(q, stop, '.');
    exp10 = static_cast<int>(point - q) - 1;
  } else if (q + 1 != stop) { // "0.000ddd"
    const char* digit = q + 2;
    while (digit != stop && *digit == '0') ++digit;
    exp10 = -static_cast<int>(digit - (q + 2)) - 1;
  }
  if (exp10 < -4 || exp10 >= 16)
    return std::to_chars(p, p + n, v, std::chars_format::scientific).ptr;
  return plain.ptr;
}

void append_number(std::string& out, double v) {
  char buf[kMaxNumberChars];
  out.append(buf, write_number(buf, v));
}

std::string format_number(double v) {
  std::string s;
  append_number(s, v);
  return s;
}

std::string format_double(double v) {
  std::string s = format_number(v);
  if (std::isfinite(v) && s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::optional<std::int64_t> parse_int(std::string_view s) {
  if (s.empty()) return 0;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  if (*first == '+') {
    ++first;
    if (first != last && *first == '-') return std::nullopt; // "+-1"
  }
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(first, last, v);
  if (ec != std::errc{} || ptr != last) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view s) {
  if (s.empty()) return 0.0;
  if (s == "Infinity" || s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-Infinity" || s == "-inf") return -std::numeric_limits<double>::infinity();
  const char* first = s.data();
  const char* last = s.data() + s.size();
  if (*first == '+') {
    ++first;
    if (first != last && *first == '-') return std::nullopt; // "+-1"
  }
  // from_chars would accept "nan"/"inf" spellings (also after '-'); TWS never
  // sends them. A second sign is not a number either.
  const char* body = first != last && *first == '-' ? first + 1 : first;
  if (body == last || !((*body >= '0' && *body <= '9') || *body == '.')) return std::nullopt;
  double v = 0;
  auto [ptr, ec] = std::from_chars(first, last, v);
  if (ptr != last) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    // 1.7976931348623157E308 is DBL_MAX and parses; beyond it, saturate to
    // +-inf, and below the smallest subnormal to +-0, as Python float(), Java
    // Double.parseDouble and C atof do.
    const double magnitude =
        exceeds_double_range(std::string_view(body, static_cast<std::size_t>(last - body)))
            ? std::numeric_limits<double>::infinity()
            : 0.0;
    return *first == '-' ? -magnitude : magnitude;
  }
  if (ec != std::errc{}) return std::nullopt;
  return v;
}

// ---------------------------------------------------------------- writing

FieldWriter::FieldWriter() { buf_.assign(4, '\0'); }

FieldWriter& FieldWriter::add(std::string_view s) {
  buf_.append(s);
  buf_.push_back('\0');
  ++fields_;
  return *this;
}

FieldWriter& FieldWriter::add_int(std::int64_t v) {
  char tmp[24];
  auto [end, ec] = std::to_chars(tmp, tmp + sizeof tmp, v);
  return add(std::string_view(tmp, static_cast<std::size_t>(end - tmp)));
}

FieldWriter& FieldWriter::add_double(double v) { return add(format_double(v)); }

FieldWriter& FieldWriter::add_price(double v) {
  append_number(buf_, v);
  buf_.push_back('\0');
  ++fields_;
  return *this;
}

FieldWriter& FieldWriter::add_decimal(const Decimal& v) {
  if (!v) return add("");
  return add_price(*v);
}

std::string FieldWriter::finish() {
  const auto n = static_cast<std::uint32_t>(buf_.size() - 4);
  buf_[0] = static_cast<char>((n >> 24) & 0xFF);
  buf_[1] = static_cast<char>((n >> 16) & 0xFF);
  buf_[2] = static_cast<char>((n >> 8) & 0xFF);
  buf_[3] = static_cast<char>(n & 0xFF);
  std::string out = std::move(buf_);
  buf_.assign(4, '\0');
  fields_ = 0;
  return out;
}

std::string make_frame(std::string_view payload) {
  std::string out(4, '\0');
  const auto n = static_cast<std::uint32_t>(payload.size());
  out[0] = static_cast<char>((n >> 24) & 0xFF);
  out[1] = static_cast<char>((n >> 16) & 0xFF);
  out[2] = static_cast<char>((n >> 8) & 0xFF);
  out[3] = static_cast<char>(n & 0xFF);
  out.append(payload);
  return out;
}

// ---------------------------------------------------------------- reading

std::string_view FieldReader::str_slow() {
  if (error_ != WireError::ok) return {};
  if (rest_.empty()) {
    error_ = WireError::missing_field;
    return {};
  }
  const void* nul = std::memchr(rest_.data(), '\0', rest_.size());
  if (nul == nullptr) {
    error_ = WireError::unterminated_payload;
    rest_ = {};
    return {};
  }
  const auto len = static_cast<std::size_t>(static_cast<const char*>(nul) - rest_.data());
  std::string_view field = rest_.substr(0, len);
  rest_.remove_prefix(len + 1);
  return field;
}

std::int64_t FieldReader::i64_slow() {
  std::string_view s = str();
  if (error_ != WireError::ok) return 0;
  auto v = parse_int(s);
  if (!v) {
    error_ = WireError::bad_integer;
    return 0;
  }
  return *v;
}

double FieldReader::dbl_slow() {
  std::string_view s = str();
  if (error_ != WireError::ok) return 0;
  auto v = parse_double(s);
  if (!v) {
    error_ = WireError::bad_double;
    return 0;
  }
  return *v;
}

Decimal FieldReader::decimal_slow() {
  std::string_view s = str();
  if (error_ != WireError::ok) return std::nullopt;
  if (s.empty() || is_unset_decimal_literal(s)) return std::nullopt;
  auto v = parse_double(s);
  if (!v || !std::isfinite(*v)) {
    error_ = WireError::bad_decimal;
    return std::nullopt;
  }
  return *v;
}

std::size_t FieldReader::remaining() const {
  std::size_t n = 0;
  for (char c : rest_)
    if (c == '\0') ++n;
  return n;
}

std::optional<std::vector<std::string_view>> split_fields(std::string_view payload) {
  std::vector<std::string_view> out;
  FieldReader r(payload);
  while (!r.at_end()) {
    auto f = r.str();
    if (!r.ok()) return std::nullopt;
    out.push_back(f);
  }
  return out;
}

char* FrameReader::prepare(std::size_t n) {
  if (begin_ == end_) begin_ = end_ = 0;
  if (buf_.size() - end_ < n) {
    // Compact first; grow only if that is not enough.
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (buf_.size() - end_ < n) buf_.resize(end_ + n);
  }
  return buf_.data() + end_;
}

void FrameReader::append(std::string_view bytes) {
  char* p = prepare(bytes.size());
  if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
  commit(bytes.size());
}

FrameReader::Status FrameReader::next(std::string_view& payload, std::error_code& ec) {
  if (fatal_ != WireError::ok) {
    ec = make_error_code(fatal_);
    return Status::error;
  }
  if (end_ - begin_ < 4) return Status::need_more;
  const auto* p = reinterpret_cast<const unsigned char*>(buf_.data() + begin_);
  const std::uint32_t n = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                          (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
  if (n == 0) fatal_ = WireError::zero_length_frame;
  else if (n > max_frame_) fatal_ = WireError::oversized_frame;
  if (fatal_ != WireError::ok) {
    ec = make_error_code(fatal_);
    return Status::error;
  }
  if (end_ - begin_ - 4 < n) return Status::need_more;
  payload = std::string_view(buf_.data() + begin_ + 4, n);
  begin_ += 4 + n;
  return Status::frame;
}

std::optional<std::string> FrameReader::take_raw(std::size_t n) {
  if (end_ - begin_ < n) return std::nullopt;
  std::string out(buf_.data() + begin_, n);
  begin_ += n;
  return out;
}

} // namespace tws

// Wire codec of the TWS socket protocol (shared/spec/tws-protocol.md §1):
// 4-byte big-endian length prefix, payload of NUL-terminated ASCII fields.
//
// Thread-safety: every type here is a plain value type; distinct objects may
// be used from different threads, one object from one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace tws {

/// Largest payload either side may send (0xFFFFFF, as IB's clients enforce).
inline constexpr std::size_t kMaxFrameSize = 0xFFFFFF;

inline constexpr int kUnsetInteger = std::numeric_limits<int>::max();
inline constexpr double kUnsetDouble = std::numeric_limits<double>::max();
inline constexpr int kNoValidId = -1;

/// A TWS size/quantity. TWS sends sizes as decimal text; an empty field or
/// one of the UNSET literals means "no value".
using Decimal = std::optional<double>;

enum class WireError {
  ok = 0,
  zero_length_frame,    // length prefix of 0: framing is lost
  oversized_frame,      // length prefix above the cap: framing is lost
  unterminated_payload, // payload does not end with NUL
  missing_field,        // fewer fields than the layout needs
  bad_integer,          // an int/long field holds something else
  bad_double,           // a double field holds something else
  bad_decimal,          // a Decimal field holds something else
  bad_handshake,        // handshake bytes are not what the protocol says
  unknown_message,      // message id not known for this direction
  unsupported_version,  // negotiated version outside what we speak
  bad_value,            // a field is well-formed but not a legal value
};

const std::error_category& wire_category() noexcept;
inline std::error_code make_error_code(WireError e) noexcept {
  return {static_cast<int>(e), wire_category()};
}

// ---------------------------------------------------------------- writing

/// Text of a double as IB's Python client writes it (`str(float)`):
/// shortest round-trip form, with ".0" added to integral values
/// ("0.0", "189.5", "1e-05"); +inf as "Infinity".
std::string format_double(double v);
/// Shortest round-trip text of a double without a forced ".0" ("100", "0.5"),
/// in Python repr's notation: fixed unless the decimal exponent is below -4
/// or above 15 ("100000", "0.0001", "1e-05", "1e+16").
std::string format_number(double v);
/// Appends the shortest round-trip text of v to out (no allocation beyond out).
void append_number(std::string& out, double v);
/// Longest text write_number produces ("-2.2250738585072014e-308").
inline constexpr std::size_t kMaxNumberChars = 32;
/// Writes the text of append_number at `p` (room for kMaxNumberChars bytes
/// needed) and returns the end of what it wrote.
char* write_number(char* p, double v);

/// Builds one frame: reserve room for the length prefix, add fields, then
/// `finish()` patches the prefix and hands the bytes over.
class FieldWriter {
public:
  FieldWriter();
  FieldWriter& add(std::string_view s);
  FieldWriter& add(const char* s) { return add(std::string_view{s}); }
  FieldWriter& add_int(std::int64_t v);
  FieldWriter& add_bool(bool v) { return add(v ? "1" : "0"); }
  /// Request-side doubles (C→T), Python style: "0.0", "189.5".
  FieldWriter& add_double(double v);
  /// Shortest form ("189.5", "175"): what TWS writes for prices it sends.
  FieldWriter& add_price(double v);
  /// Decimal: shortest text, or an empty field when unset.
  FieldWriter& add_decimal(const Decimal& v);
  /// Number of fields added so far.
  std::size_t field_count() const { return fields_; }
  /// The finished frame (prefix + payload). The writer is empty afterwards.
  std::string finish();

private:
  std::string buf_;
  std::size_t fields_ = 0;
};

/// A frame of the given payload (which must already hold its NULs).
std::string make_frame(std::string_view payload);

// ---------------------------------------------------------------- reading

/// Reads fields of one payload in order. Errors are sticky: after the first
/// one, every read returns a default value and `error()` tells what failed,
/// so a decoder reads its whole layout and checks once at the end.
class FieldReader {
public:
  explicit FieldReader(std::string_view payload) : rest_(payload) {}

  // The common shapes of a field (plain decimal digits) are parsed inline;
  // anything else takes the general path, with the same results.
  std::string_view str();
  std::int64_t i64();
  int i32();
  double dbl();
  bool boolean() { return i64() != 0; }
  Decimal decimal();

  /// Fields not yet read.
  std::size_t remaining() const;
  bool at_end() const { return rest_.empty(); }
  /// Empty (compares equal to std::error_code{}) while no read failed.
  std::error_code error() const {
    return error_ == WireError::ok ? std::error_code{} : make_error_code(error_);
  }
  bool ok() const { return error_ == WireError::ok; }
  void fail(WireError e) {
    if (error_ == WireError::ok) error_ = e;
  }

private:
  /// Fast path of a number field: [-]digits[.digits] then NUL, at most 19
  /// digits. On success consumes the field and sets `mantissa` (digits
  /// without the point), `frac_digits` and `negative`.
  bool scan_plain_number(std::uint64_t& mantissa, int& frac_digits, bool& negative);
  std::string_view str_slow();
  std::int64_t i64_slow();
  double dbl_slow();
  Decimal decimal_slow();

  std::string_view rest_;
  WireError error_ = WireError::ok;
};

namespace detail {
/// Exact powers of ten that fit a double (10^0 .. 10^22).
inline constexpr double kExactPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                         1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                         1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
/// Correctly rounded value of mantissa / 10^frac_digits when both are exact
/// doubles (Clinger's fast path): false when that does not hold.
inline bool exact_decimal(std::uint64_t mantissa, int frac_digits, bool negative, double& out) {
  if (mantissa > (std::uint64_t{1} << 53) || frac_digits > 22) return false;
  const double v = static_cast<double>(mantissa) / kExactPow10[frac_digits];
  out = negative ? -v : v;
  return true;
}
} // namespace detail

inline std::string_view FieldReader::str() {
  if (error_ == WireError::ok && !rest_.empty()) {
    const char* first = rest_.data();
    const char* last = first + rest_.size();
    for (const char* p = first; p != last; ++p) {
      if (*p == '\0') {
        const auto len = static_cast<std::size_t>(p - first);
        rest_ = std::string_view(p + 1, static_cast<std::size_t>(last - p - 1));
        return std::string_view(first, len);
      }
      if (p - first == 32) break; // long field: let memchr find its end
    }
  }
  return str_slow();
}

inline bool FieldReader::scan_plain_number(std::uint64_t& mantissa, int& frac_digits,
                                           bool& negative) {
  if (error_ != WireError::ok) return false;
  const char* p = rest_.data();
  const char* const last = p + rest_.size();
  if (p == last) return false;
  negative = *p == '-';
  p += negative ? 1 : 0;
  const char* const digits = p;
  std::uint64_t m = 0;
  int n = 0;
  while (p != last && static_cast<unsigned char>(*p - '0') < 10 && n < 19) {
    m = m * 10 + static_cast<unsigned>(*p - '0');
    ++p;
    ++n;
  }
  if (p == digits || p == last) return false;
  int frac = 0;
  if (*p == '.') {
    const char* const point = p++;
    while (p != last && static_cast<unsigned char>(*p - '0') < 10 && n < 19) {
      m = m * 10 + static_cast<unsigned>(*p - '0');
      ++p;
      ++n;
    }
    frac = static_cast<int>(p - point - 1);
    if (frac == 0 || p == last) return false; // "1." goes the general way
  }
  if (*p != '\0') return false;
  mantissa = m;
  frac_digits = frac;
  rest_ = std::string_view(p + 1, static_cast<std::size_t>(last - p - 1));
  return true;
}

inline std::int64_t FieldReader::i64() {
  if (error_ == WireError::ok && !rest_.empty()) {
    // [-]digits (at most 18: no overflow) or empty (0), then NUL.
    const char* p = rest_.data();
    const char* const last = p + rest_.size();
    const bool negative = *p == '-';
    p += negative ? 1 : 0;
    const char* const digits = p;
    std::uint64_t v = 0;
    while (p != last && static_cast<unsigned char>(*p - '0') < 10 && p - digits < 18) {
      v = v * 10 + static_cast<unsigned>(*p - '0');
      ++p;
    }
    if (p != last && *p == '\0' && (p != digits || !negative)) {
      rest_ = std::string_view(p + 1, static_cast<std::size_t>(last - p - 1));
      const auto s = static_cast<std::int64_t>(v);
      return negative ? -s : s;
    }
  }
  return i64_slow();
}

inline int FieldReader::i32() {
  const std::int64_t v = i64();
  if (v > std::numeric_limits<int>::max() || v < std::numeric_limits<int>::min()) {
    fail(WireError::bad_integer);
    return 0;
  }
  return static_cast<int>(v);
}

inline double FieldReader::dbl() {
  const std::string_view saved = rest_;
  std::uint64_t m = 0;
  int frac = 0;
  bool negative = false;
  double v = 0;
  if (scan_plain_number(m, frac, negative)) {
    if (detail::exact_decimal(m, frac, negative, v)) return v;
    rest_ = saved;
  }
  return dbl_slow();
}

inline Decimal FieldReader::decimal() {
  const std::string_view saved = rest_;
  std::uint64_t m = 0;
  int frac = 0;
  bool negative = false;
  double v = 0;
  if (scan_plain_number(m, frac, negative)) {
    // "2147483647" is an UNSET literal (the other two never take this path).
    if (m != 2147483647u || frac != 0 || negative) {
      if (detail::exact_decimal(m, frac, negative, v)) return v;
    }
    rest_ = saved;
  }
  return decimal_slow();
}

/// Parses one field's text as the protocol's int (empty = 0).
std::optional<std::int64_t> parse_int(std::string_view s);
/// Parses one field's text as the protocol's double (empty = 0, "Infinity",
/// scientific forms; values out of range saturate to +-inf or +-0).
std::optional<double> parse_double(std::string_view s);

/// Splits a payload into its fields; fails when the payload is not
/// NUL-terminated. Used by tests and diagnostics, not on hot paths.
std::optional<std::vector<std::string_view>> split_fields(std::string_view payload);

/// Incremental frame splitter for a byte stream. Feed it what the socket
/// read; take complete frames out. A bad length prefix is fatal for the
/// stream (framing is lost): `next()` keeps returning the error.
class FrameReader {
public:
  explicit FrameReader(std::size_t max_frame = kMaxFrameSize) : max_frame_(max_frame) {}

  /// Room for at least `n` more bytes; write into it, then `commit()`.
  char* prepare(std::size_t n);
  void commit(std::size_t n) { end_ += n; }
  /// Copies bytes in (convenience for tests and fuzzers).
  void append(std::string_view bytes);

  enum class Status { frame, need_more, error };
  /// On `frame`, `payload` views the frame's payload; it stays valid until
  /// the next call to prepare/append/next.
  Status next(std::string_view& payload, std::error_code& ec);

  /// Bytes buffered but not yet returned as frames.
  std::size_t buffered() const { return end_ - begin_; }
  /// Takes exactly `n` raw bytes (for the unframed "API\0" handshake prefix).
  std::optional<std::string> take_raw(std::size_t n);

private:
  std::vector<char> buf_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::size_t max_frame_;
  WireError fatal_ = WireError::ok;
};

} // namespace tws

template <> struct std::is_error_code_enum<tws::WireError> : std::true_type {};

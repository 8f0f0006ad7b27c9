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
  std::string_view rest_;
  WireError error_ = WireError::ok;
};

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

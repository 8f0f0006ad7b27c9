// stream::JsonWriter: the one way this project writes JSON text (tick
// objects, SSE events, WebSocket messages, endpoint answers, log lines,
// study output). It appends to a std::string through a small stack buffer,
// so a tick object costs a few large appends rather than dozens of small
// ones, and it places commas itself.
//
//   std::string out;
//   JsonWriter w(out);
//   w.begin_object().member("type", "tick").key("data").raw(data_json).end_object();
//   w.flush(); // or let the writer go out of scope
//
// Strings keep valid UTF-8 as is; quotes, backslashes and control
// characters are escaped and bytes that are not valid UTF-8 become U+FFFD,
// so the output is always valid JSON (json_text.hpp). Numbers are printed
// with the shortest round-trip representation (175.25, not
// 175.25000000000001); non-finite numbers become null.
//
// A writer may also start inside an object that someone else opened (the
// WebSocket message suffixes of wire_formats.hpp): key() then writes the
// first member without a comma.
//
// Not thread-safe (one writer, one string); the output string must not be
// touched by anything else until flush() (or the destructor).
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "tws/wire.hpp"

namespace stream {

/// Writes "YYYY-MM-DD HH:MM:SS" (UTC) of a Unix time at `p` (room for 64
/// bytes) and returns the end.
char* write_utc_text(char* p, std::int64_t unix_time);
/// Printable ASCII without quote or backslash: JSON string text as is.
inline bool is_plain_json_text(std::string_view s) {
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u >= 0x7F || ch == '"' || ch == '\\') return false;
  }
  return true;
}

class JsonWriter {
public:
  explicit JsonWriter(std::string& out) : out_(out) {}
  ~JsonWriter() { flush(); }
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  JsonWriter& begin_object() {
    separate();
    put('{');
    comma_ = false;
    return *this;
  }
  JsonWriter& end_object() {
    put('}');
    comma_ = true;
    return *this;
  }
  JsonWriter& begin_array() {
    separate();
    put('[');
    comma_ = false;
    return *this;
  }
  JsonWriter& end_array() {
    put(']');
    comma_ = true;
    return *this;
  }

  /// A member name: ASCII without quotes, backslashes or control characters
  /// (ours are literals), written as is.
  template <std::size_t N> JsonWriter& key(const char (&name)[N]) { // a literal
    static_assert(N >= 1 && N + 2 <= kSize);
    separate();
    room(N + 2);
    *p_++ = '"';
    std::memcpy(p_, name, N - 1);
    p_ += N - 1;
    *p_++ = '"';
    *p_++ = ':';
    comma_ = false;
    return *this;
  }
  JsonWriter& key(std::string_view name) {
    separate();
    room(name.size() + 3);
    *p_++ = '"';
    std::memcpy(p_, name.data(), name.size());
    p_ += name.size();
    *p_++ = '"';
    *p_++ = ':';
    comma_ = false;
    return *this;
  }

  // The writers a tick goes through are inline: a tick is a dozen of them.
  JsonWriter& string(std::string_view v) {
    separate();
    if (v.size() <= 64 && is_plain_json_text(v)) {
      room(v.size() + 2);
      *p_++ = '"';
      if (!v.empty()) std::memcpy(p_, v.data(), v.size()); // an empty view may have no data
      p_ += v.size();
      *p_++ = '"';
    } else {
      escaped_string(v);
    }
    comma_ = true;
    return *this;
  }
  JsonWriter& number(double v) {
    separate();
    if (!std::isfinite(v)) {
      text("null");
    } else {
      room(tws::kMaxNumberChars);
      p_ = tws::write_number(p_, v);
    }
    comma_ = true;
    return *this;
  }
  JsonWriter& integer(std::int64_t v) { return whole_number(v); }
  JsonWriter& uinteger(std::uint64_t v) { return whole_number(v); }
  JsonWriter& boolean(bool v) {
    separate();
    if (v) text("true");
    else text("false");
    comma_ = true;
    return *this;
  }
  JsonWriter& null() {
    separate();
    text("null");
    comma_ = true;
    return *this;
  }
  /// "YYYY-MM-DD HH:MM:SS" (UTC) of a Unix time, as a JSON string.
  JsonWriter& utc_time(std::int64_t unix_time) {
    separate();
    room(64 + 2);
    *p_++ = '"';
    p_ = write_utc_text(p_, unix_time);
    *p_++ = '"';
    comma_ = true;
    return *this;
  }
  /// A complete JSON value written by someone else, spliced in as is.
  JsonWriter& raw(std::string_view json) {
    separate();
    text(json);
    comma_ = true;
    return *this;
  }
  /// Members written by someone else (`"a":1,"b":2`), spliced into the
  /// current object; nothing when empty.
  JsonWriter& raw_members(std::string_view members) {
    if (members.empty()) return *this;
    separate();
    text(members);
    comma_ = true;
    return *this;
  }

  // Members: key(name) then the value.
  JsonWriter& member(std::string_view name, std::string_view v) { return key(name).string(v); }
  JsonWriter& member(std::string_view name, const char* v) { return key(name).string(v); }
  JsonWriter& member(std::string_view name, const std::string& v) { return key(name).string(v); }
  JsonWriter& member(std::string_view name, bool v) { return key(name).boolean(v); }
  JsonWriter& member(std::string_view name, double v) { return key(name).number(v); }
  JsonWriter& member(std::string_view name, int v) { return key(name).integer(v); }
  JsonWriter& member(std::string_view name, long v) { return key(name).integer(v); }
  JsonWriter& member(std::string_view name, long long v) { return key(name).integer(v); }
  JsonWriter& member(std::string_view name, unsigned v) { return key(name).uinteger(v); }
  JsonWriter& member(std::string_view name, unsigned long v) { return key(name).uinteger(v); }
  JsonWriter& member(std::string_view name, unsigned long long v) { return key(name).uinteger(v); }
  /// null when empty.
  template <class T> JsonWriter& member(std::string_view name, const std::optional<T>& v) {
    if (!v) return key(name).null();
    return member(name, *v);
  }

  /// Hands what is buffered to the output string.
  void flush() {
    out_.append(buf_, p_);
    p_ = buf_;
  }

private:
  static constexpr std::size_t kSize = 256;

  template <class Int> JsonWriter& whole_number(Int v) {
    separate();
    room(24);
    p_ = std::to_chars(p_, p_ + 24, v).ptr;
    comma_ = true;
    return *this;
  }
  /// Strings with bytes to escape or to check as UTF-8 (json_text.hpp).
  void escaped_string(std::string_view v);
  /// flush(), kept out of line: the writers above only test for room.
  void make_room();

  void separate() {
    if (comma_) put(',');
  }
  void put(char c) {
    room(1);
    *p_++ = c;
  }
  void text(std::string_view s) {
    if (s.size() > kSize) {
      flush();
      out_.append(s);
      return;
    }
    room(s.size());
    if (!s.empty()) std::memcpy(p_, s.data(), s.size()); // an empty view may have no data
    p_ += s.size();
  }
  void room(std::size_t n) {
    if (static_cast<std::size_t>(buf_ + kSize - p_) < n) [[unlikely]]
      make_room();
  }

  std::string& out_;
  char buf_[kSize];
  char* p_ = buf_;
  bool comma_ = false; // the next value or key needs a comma before it
};

} // namespace stream

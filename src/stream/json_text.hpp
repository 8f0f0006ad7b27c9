// JSON text helpers: strings from TWS and from clients (ids, request ids,
// echoed values) keep valid UTF-8 as is; invalid bytes become U+FFFD.
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace stream {

/// Appends `s` as a JSON string literal. Valid UTF-8 is copied; quotes,
/// backslashes and control characters are escaped; every byte that is not
/// part of valid UTF-8 becomes U+FFFD, so the output is always valid JSON.
void append_json_utf8(std::string& out, std::string_view s);

/// `s` cut to at most `max_bytes` bytes on a UTF-8 character boundary, with
/// "..." appended when it was cut.
std::string truncate_utf8(std::string_view s, std::size_t max_bytes);

/// Number of UTF-8 characters (code points) in `s`.
std::size_t utf8_length(std::string_view s);

} // namespace stream

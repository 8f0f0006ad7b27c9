// Optional API key (api.md §6, IB_STREAM_API_KEY): given either as
// `Authorization: Bearer KEY` or as the `api_key` query parameter (a browser
// EventSource cannot send headers). /health, /ready and CORS preflights stay
// open so load balancers and browsers work without the key.
//
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace http {

/// True when no key is configured, or the request carries the right one.
/// The comparison takes the same time wherever the first difference is.
bool api_key_accepted(const std::optional<std::string>& key,
                      std::optional<std::string_view> authorization_header,
                      std::string_view raw_query);

/// Equal strings, compared in time that depends only on their lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

/// `target` with the value of every `api_key` query parameter replaced by
/// "***", for logs. Names are compared percent-decoded, as api_key_accepted()
/// reads them: `api%5Fkey=KEY` is redacted too.
std::string redact_api_key(std::string_view target);

} // namespace http

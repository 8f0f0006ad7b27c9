// CORS (api.md §6, IB_STREAM_CORS_ORIGINS): which browser origins may read
// our answers. The headers go on every response, errors and SSE included,
// so a browser client can read why a request failed.
//
// Immutable after construction; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

class CorsPolicy {
public:
  /// `origins`: "*" (any origin) or exact origins like "https://app.example".
  explicit CorsPolicy(std::vector<std::string> origins);

  /// The headers for a response to a request with this Origin header.
  HeaderList headers(std::optional<std::string_view> origin) const;
  /// Whether a browser page of this Origin may open a WebSocket (no
  /// Origin header: not a browser, allowed).
  bool allows(std::optional<std::string_view> origin) const;
  /// The extra headers of a preflight (OPTIONS) answer.
  HeaderList preflight_headers() const;

private:
  std::vector<std::string> origins_;
  bool any_ = false;
};

} // namespace http

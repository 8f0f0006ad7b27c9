#include "http/cors_policy.hpp"

#include <algorithm>

namespace http {

CorsPolicy::CorsPolicy(std::vector<std::string> origins) : origins_(std::move(origins)) {
  any_ = std::find(origins_.begin(), origins_.end(), "*") != origins_.end();
}

HeaderList CorsPolicy::headers(std::optional<std::string_view> origin) const {
  HeaderList h;
  if (any_) {
    // Credentials travel in the Authorization header or the query, never in
    // cookies, so the wildcard is safe and cache-friendly.
    h.emplace_back("Access-Control-Allow-Origin", "*");
  } else {
    if (origin && std::find(origins_.begin(), origins_.end(), *origin) != origins_.end())
      h.emplace_back("Access-Control-Allow-Origin", std::string(*origin));
    // The answer depends on Origin: caches must not serve it to another.
    h.emplace_back("Vary", "Origin");
  }
  h.emplace_back("Access-Control-Expose-Headers", "Retry-After");
  return h;
}

bool CorsPolicy::allows(std::optional<std::string_view> origin) const {
  return any_ || !origin || std::find(origins_.begin(), origins_.end(), *origin) != origins_.end();
}

HeaderList CorsPolicy::preflight_headers() const {
  return {{"Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS"},
          {"Access-Control-Allow-Headers", "Authorization, Last-Event-ID, Content-Type"},
          {"Access-Control-Max-Age", "600"}};
}

} // namespace http

#include "http/api_key_auth.hpp"

#include <boost/url/parse_query.hpp>
#include <boost/url/pct_string_view.hpp>

#include <algorithm>
#include <cctype>

namespace http {

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Compare over the longer length so a wrong key's length is the only leak.
  const std::size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

bool api_key_accepted(const std::optional<std::string>& key,
                      std::optional<std::string_view> authorization_header,
                      std::string_view raw_query) {
  if (!key) return true;
  if (authorization_header) {
    std::string_view h = *authorization_header;
    constexpr std::string_view kBearer = "Bearer ";
    if (h.size() > kBearer.size()) {
      bool scheme = true;
      for (std::size_t i = 0; i < kBearer.size(); ++i)
        scheme = scheme && std::tolower(static_cast<unsigned char>(h[i])) ==
                               std::tolower(static_cast<unsigned char>(kBearer[i]));
      if (scheme && constant_time_equal(h.substr(kBearer.size()), *key)) return true;
    }
  }
  auto params = boost::urls::parse_query(raw_query);
  if (!params) return false;
  for (const auto& p : *params) {
    if (p.key.decode() != "api_key" || !p.has_value) continue;
    if (constant_time_equal(p.value.decode(), *key)) return true;
  }
  return false;
}

namespace {

/// A query parameter name that api_key_accepted() reads as the key: the
/// percent-decoded name is compared, so `api%5Fkey` counts too.
bool names_api_key(std::string_view name) {
  if (name == "api_key") return true;
  const auto pct = boost::urls::make_pct_string_view(name);
  return pct && pct->decode() == "api_key";
}

} // namespace

std::string redact_api_key(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return std::string(target);
  std::string out(target.substr(0, q + 1));
  std::string_view rest = target.substr(q + 1);
  bool first = true;
  while (true) {
    const auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    if (!first) out += '&';
    first = false;
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && names_api_key(pair.substr(0, eq))) {
      out += pair.substr(0, eq);
      out += "=***";
    } else {
      out += pair;
    }
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return out;
}

} // namespace http

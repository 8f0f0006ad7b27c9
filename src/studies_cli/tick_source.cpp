#include "studies_cli/tick_source.hpp"

#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cstdio>

namespace studies_cli {

bool ServerAddress::parse(std::string_view text, ServerAddress& out, std::string& error) {
  auto r = boost::urls::parse_uri(text);
  if (!r) {
    error = "'" + std::string(text) + "' is not a URL";
    return false;
  }
  const auto& u = *r;
  if (u.scheme() != "http") {
    error = "'" + std::string(text) + "': only http:// servers are supported";
    return false;
  }
  if (u.has_query() || u.has_fragment() || u.has_userinfo()) {
    error = "'" + std::string(text) + "': give scheme, host, port and path only";
    return false;
  }
  out.host = u.host_address();
  if (out.host.empty()) {
    error = "'" + std::string(text) + "' has no host";
    return false;
  }
  out.port = u.has_port() ? std::string(u.port()) : std::string("80");
  out.host_port = std::string(u.encoded_host_and_port());
  out.prefix = std::string(u.encoded_path());
  while (!out.prefix.empty() && out.prefix.back() == '/') out.prefix.pop_back();
  return true;
}

std::chrono::milliseconds Backoff::next() {
  const long base = std::min(10000L, 250L << std::min(attempt_, 6));
  ++attempt_;
  std::uniform_int_distribution<long> d(base / 2, base);
  return std::chrono::milliseconds(d(rng_));
}

std::string api_error_message(const std::string& body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (!ec && v.is_object()) {
    if (const auto* e = v.get_object().if_contains("error"); e && e->is_object()) {
      const auto& o = e->get_object();
      std::string out;
      if (const auto* c = o.if_contains("code"); c && c->is_string()) out += c->get_string();
      if (const auto* m = o.if_contains("message"); m && m->is_string())
        out += (out.empty() ? "" : ": ") + std::string(m->get_string());
      if (!out.empty()) return out;
    }
  }
  return body.substr(0, 200);
}

void notice(std::string_view text) {
  std::fprintf(stderr, "ib-studies: %.*s\n", static_cast<int>(text.size()), text.data());
  std::fflush(stderr);
}

} // namespace studies_cli

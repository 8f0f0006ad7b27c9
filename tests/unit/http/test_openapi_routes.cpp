// docs/openapi.json against the router, both ways: every operation of the
// document routes to an endpoint (not a 404 or a 405), every endpoint the
// router has (http::Endpoint) is reached by some documented operation, every
// embedded web asset is documented (or is a file of a documented page), and
// every entry of GET /'s endpoint list is documented. A route added to the
// router, or an endpoint to GET /, without its description fails here.
#include "http/endpoint_json.hpp"
#include "http/router.hpp"
#include "www/web_assets.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

namespace {

namespace json = boost::json;
using http::Endpoint;

/// docs/openapi.json of this source tree.
json::object load_openapi() {
  const auto file = std::filesystem::path(__FILE__).parent_path() / "../../../docs/openapi.json";
  std::ifstream in(file);
  EXPECT_TRUE(in) << "cannot read " << file;
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str()).as_object();
}

/// A request target for a path template: {contract_id} -> 265598,
/// {contract} -> AAPL, {tick_type} -> BidAsk.
std::string sample_target(std::string_view path) {
  static const std::map<std::string, std::string> samples = {
      {"{contract_id}", "265598"}, {"{contract}", "AAPL"}, {"{tick_type}", "BidAsk"}};
  std::string out(path);
  for (const auto& [name, value] : samples)
    for (auto at = out.find(name); at != std::string::npos; at = out.find(name))
      out.replace(at, name.size(), value);
  EXPECT_EQ(out.find('{'), std::string::npos) << "a path parameter without a sample: " << path;
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

bool is_method(std::string_view key) {
  return key == "get" || key == "post" || key == "delete" || key == "put" || key == "patch" ||
         key == "head" || key == "options";
}

/// Not a route of its own: the router's answers for what has none.
bool is_fallback(Endpoint e) {
  return e == Endpoint::preflight || e == Endpoint::not_found || e == Endpoint::bad_method ||
         e == Endpoint::bad_target;
}

struct Documented {
  std::set<std::pair<std::string, std::string>> operations; // (METHOD, path template)
  std::set<int> endpoints;                                  // what they route to
};

Documented documented() {
  Documented d;
  const auto doc = load_openapi();
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [key, operation] : item.as_object()) {
      if (!is_method(key)) continue;
      const std::string method = upper(key);
      d.operations.emplace(method, std::string(path));
      const auto route = http::route_request(method, sample_target(path));
      EXPECT_FALSE(is_fallback(route.endpoint))
          << method << " " << path << " is documented but the router does not serve it ("
          << static_cast<int>(route.endpoint) << ")";
      d.endpoints.insert(static_cast<int>(route.endpoint));
    }
  }
  return d;
}

TEST(OpenApiRoutes, DocumentIsOpenApi31WithPaths) {
  const auto doc = load_openapi();
  EXPECT_EQ(doc.at("openapi").as_string(), "3.1.0");
  EXPECT_GT(doc.at("paths").as_object().size(), 20u);
}

TEST(OpenApiRoutes, EveryDocumentedOperationIsRouted) {
  EXPECT_FALSE(documented().operations.empty());
}

TEST(OpenApiRoutes, EveryEndpointOfTheRouterIsDocumented) {
  const auto d = documented();
  // Every enumerator of http::Endpoint up to the last one (bad_target).
  for (int e = 0; e <= static_cast<int>(Endpoint::bad_target); ++e) {
    if (is_fallback(static_cast<Endpoint>(e))) continue;
    EXPECT_TRUE(d.endpoints.count(e))
        << "http::Endpoint " << e << " (router.hpp) is not reached by any operation of "
        << "docs/openapi.json: document its path";
  }
}

TEST(OpenApiRoutes, EveryWebAssetIsDocumented) {
  const auto d = documented();
  std::set<std::string> pages; // documented paths: a page's own files live under it
  for (const auto& [method, path] : d.operations)
    if (method == "GET") pages.insert(path);
  for (const auto& asset : www::web_assets()) {
    const std::string path(asset.path);
    bool ok = pages.count(path) > 0;
    for (const auto& page : pages) ok = ok || (page != "/" && path.rfind(page + "/", 0) == 0);
    EXPECT_TRUE(ok) << "web asset " << path
                    << " (src/www/assets.cmake) is not in docs/openapi.json";
  }
}

TEST(OpenApiRoutes, EveryEndpointListedByTheRootDocumentIsDocumented) {
  const auto d = documented();
  const auto root = json::parse(http::root_json(http::ServerConfig{})).as_object();
  const auto& list = root.at("endpoints").as_array();
  ASSERT_FALSE(list.empty());
  for (const auto& e : list) {
    std::string method(e.at("method").as_string());
    const std::string path(e.at("path").as_string());
    if (method == "WEBSOCKET") method = "GET"; // the handshake
    EXPECT_TRUE(d.operations.count({method, path}))
        << "GET / lists " << method << " " << path << " but docs/openapi.json does not";
  }
}

} // namespace

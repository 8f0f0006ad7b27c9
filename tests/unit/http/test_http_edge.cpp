// The HTTP edge of ib-stream-server, without sockets: routing (literal paths
// before {contract_id}, 404/405), CORS headers, the API key check and its
// redaction in logs, and the error body of api.md §2.
#include "http/api_key_auth.hpp"
#include "http/cors_policy.hpp"
#include "http/response.hpp"
#include "http/router.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace {

using http::Endpoint;

TEST(Router, LiteralPathsWinOverContractId) {
  EXPECT_EQ(http::route_request("GET", "/").endpoint, Endpoint::root);
  EXPECT_EQ(http::route_request("GET", "/health").endpoint, Endpoint::health);
  EXPECT_EQ(http::route_request("GET", "/ready").endpoint, Endpoint::ready);
  EXPECT_EQ(http::route_request("GET", "/stream/info").endpoint, Endpoint::stream_info);
  EXPECT_EQ(http::route_request("GET", "/stream/active").endpoint, Endpoint::stream_active);
  EXPECT_EQ(http::route_request("DELETE", "/stream/all").endpoint, Endpoint::stop_all);
  EXPECT_EQ(http::route_request("GET", "/ws/stats").endpoint, Endpoint::ws_stats);
  auto r = http::route_request("GET", "/stream/265598?tick_type=BidAsk&limit=5");
  EXPECT_EQ(r.endpoint, Endpoint::stream);
  EXPECT_EQ(r.contract_segment, "265598");
  EXPECT_FALSE(r.tick_type);
  EXPECT_EQ(r.query, "tick_type=BidAsk&limit=5");
  r = http::route_request("GET", "/stream/265598/Bid%41sk");
  EXPECT_EQ(r.endpoint, Endpoint::stream);
  EXPECT_EQ(r.tick_type, "BidAsk");
  EXPECT_EQ(http::route_request("DELETE", "/stream/265598").endpoint, Endpoint::stop_contract);
}

TEST(Router, UnknownPathsAndWrongMethods) {
  EXPECT_EQ(http::route_request("GET", "/nope").endpoint, Endpoint::not_found);
  EXPECT_EQ(http::route_request("GET", "/stream").endpoint, Endpoint::not_found);
  EXPECT_EQ(http::route_request("GET", "/stream/1/Last/x").endpoint, Endpoint::not_found);
  auto r = http::route_request("POST", "/stream/265598");
  EXPECT_EQ(r.endpoint, Endpoint::bad_method);
  EXPECT_EQ(r.allow, "GET, DELETE, OPTIONS");
  r = http::route_request("GET", "/stream/all");
  EXPECT_EQ(r.endpoint, Endpoint::bad_method);
  EXPECT_EQ(r.allow, "DELETE, OPTIONS");
  EXPECT_EQ(http::route_request("DELETE", "/health").endpoint, Endpoint::bad_method);
  EXPECT_EQ(http::route_request("OPTIONS", "/stream/1").endpoint, Endpoint::preflight);
  EXPECT_EQ(http::route_request("GET", "http://x/y").endpoint, Endpoint::bad_target);
}

TEST(Cors, WildcardOrEchoedOrigin) {
  http::CorsPolicy any({"*"});
  auto h = any.headers("https://a.example");
  ASSERT_FALSE(h.empty());
  EXPECT_EQ(h[0], (std::pair<std::string, std::string>{"Access-Control-Allow-Origin", "*"}));

  http::CorsPolicy list({"https://a.example", "http://localhost:3000"});
  h = list.headers("http://localhost:3000");
  EXPECT_EQ(h[0].second, "http://localhost:3000");
  EXPECT_EQ(h[1], (std::pair<std::string, std::string>{"Vary", "Origin"}));
  h = list.headers("https://evil.example");
  for (const auto& [name, value] : h) EXPECT_NE(name, "Access-Control-Allow-Origin");
  const auto pre = list.preflight_headers();
  EXPECT_EQ(pre[0].second, "GET, POST, DELETE, OPTIONS");
  EXPECT_EQ(pre[1].second, "Authorization, Last-Event-ID, Content-Type");
}

TEST(ApiKey, HeaderOrQuery) {
  const std::optional<std::string> key = "s3cret-key";
  EXPECT_TRUE(http::api_key_accepted(std::nullopt, std::nullopt, ""));
  EXPECT_FALSE(http::api_key_accepted(key, std::nullopt, ""));
  EXPECT_TRUE(http::api_key_accepted(key, "Bearer s3cret-key", ""));
  EXPECT_TRUE(http::api_key_accepted(key, "bearer s3cret-key", ""));
  EXPECT_FALSE(http::api_key_accepted(key, "Bearer s3cret-kex", ""));
  EXPECT_FALSE(http::api_key_accepted(key, "Basic s3cret-key", ""));
  EXPECT_TRUE(http::api_key_accepted(key, std::nullopt, "limit=5&api_key=s3cret%2Dkey"));
  EXPECT_FALSE(http::api_key_accepted(key, std::nullopt, "api_key=s3cret"));
  EXPECT_TRUE(http::constant_time_equal("abc", "abc"));
  EXPECT_FALSE(http::constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(http::constant_time_equal("", "a"));
  EXPECT_EQ(http::redact_api_key("/stream/1?limit=5&api_key=s3cret&x=1"),
            "/stream/1?limit=5&api_key=***&x=1");
  EXPECT_EQ(http::redact_api_key("/health"), "/health");
}

TEST(ApiKeyAuth, RedactsAPercentEncodedParameterName) {
  // api_key_accepted() takes `api%5Fkey=KEY` as the key: the log must not show it.
  EXPECT_TRUE(http::api_key_accepted(std::string("s3cret12"), std::nullopt, "api%5Fkey=s3cret12"));
  EXPECT_EQ(http::redact_api_key("/stream/1?api%5Fkey=s3cret12&%61pi_key=s3cret12&api_keys=1"),
            "/stream/1?api%5Fkey=***&%61pi_key=***&api_keys=1");
  EXPECT_EQ(http::redact_api_key("/stream/1?api_key=%zz&api%zz=1"),
            "/stream/1?api_key=***&api%zz=1");
}

TEST(Response, ErrorBodyAndWireFormat) {
  auto r = http::error_response(404, "NOT_FOUND", "No endpoint at /x", "GET / lists them");
  r.headers.emplace_back("Allow", "GET");
  const auto body = boost::json::parse(r.body).as_object();
  EXPECT_EQ(body.size(), 2u);
  EXPECT_EQ(body.at("error").at("code"), "NOT_FOUND");
  EXPECT_EQ(body.at("error").at("message"), "No endpoint at /x");
  EXPECT_EQ(body.at("error").at("details"), "GET / lists them");
  EXPECT_TRUE(body.at("timestamp").is_string());
  const auto wire = http::serialize_response(r, true);
  EXPECT_EQ(wire.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
  EXPECT_NE(wire.find("Content-Length: " + std::to_string(r.body.size()) + "\r\n"),
            std::string::npos);
  EXPECT_NE(wire.find("Connection: keep-alive\r\nAllow: GET\r\n\r\n{"), std::string::npos);
  const auto none = http::serialize_response({204, {}, {}, {}}, false);
  EXPECT_EQ(none.find("Content-Length"), std::string::npos);
  EXPECT_NE(none.find("Connection: close\r\n\r\n"), std::string::npos);
}

} // namespace

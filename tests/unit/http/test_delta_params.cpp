// GET /studies/{contract}/delta's parameters: the contract id, `duration`
// (1 s .. 24 h), `limit`, `timeout`, `format`; each invalid value answered
// with 400 INVALID_PARAMETER naming it. The route itself.
#include "http/delta_params.hpp"
#include "http/router.hpp"

#include <gtest/gtest.h>

namespace {

using http::ApiError;
using http::DeltaRequest;

http::DeltaRequest ok(std::string_view id, std::string_view query) {
  auto r = http::parse_delta_request(id, query, 300);
  if (auto* e = std::get_if<ApiError>(&r)) ADD_FAILURE() << e->message;
  return std::holds_alternative<DeltaRequest>(r) ? std::get<DeltaRequest>(r) : DeltaRequest{};
}

ApiError bad(std::string_view id, std::string_view query) {
  auto r = http::parse_delta_request(id, query, 300);
  EXPECT_TRUE(std::holds_alternative<ApiError>(r)) << id << "?" << query;
  return std::holds_alternative<ApiError>(r) ? std::get<ApiError>(r) : ApiError{};
}

} // namespace

TEST(DeltaParams, Defaults) {
  const auto r = ok("711280073", "");
  EXPECT_EQ(r.contract_id, 711280073);
  EXPECT_FALSE(r.duration_seconds);
  EXPECT_FALSE(r.limit);
  EXPECT_EQ(r.timeout_seconds, 300);
}

TEST(DeltaParams, AcceptedValues) {
  EXPECT_EQ(*ok("1", "duration=15m").duration_seconds, 900);
  EXPECT_EQ(*ok("1", "duration=1h").duration_seconds, 3600);
  EXPECT_EQ(*ok("1", "duration=24h").duration_seconds, 86400);
  EXPECT_EQ(*ok("1", "duration=1d").duration_seconds, 86400);
  EXPECT_EQ(*ok("1", "duration=90s&limit=10").limit, 10);
  EXPECT_EQ(ok("1", "timeout=3600&format=sse&other=x").timeout_seconds, 3600);
}

TEST(DeltaParams, InvalidValuesNameTheParameter) {
  for (const char* q : {"duration=25h", "duration=2d", "duration=0s", "duration=1x",
                        "duration=", "duration=-5m", "duration=1h&duration=2h"}) {
    const auto e = bad("1", q);
    EXPECT_EQ(e.status, 400) << q;
    EXPECT_EQ(e.code, "INVALID_PARAMETER") << q;
    EXPECT_NE(e.message.find("duration"), std::string::npos) << q << ": " << e.message;
  }
  EXPECT_NE(bad("1", "limit=0").message.find("limit"), std::string::npos);
  EXPECT_NE(bad("1", "limit=10001").message.find("limit"), std::string::npos);
  EXPECT_NE(bad("1", "timeout=4").message.find("timeout"), std::string::npos);
  EXPECT_NE(bad("1", "format=csv").message.find("format"), std::string::npos);
  EXPECT_NE(bad("0", "").message.find("contract"), std::string::npos);
  EXPECT_NE(bad("x1", "").message.find("contract"), std::string::npos);
}

TEST(DeltaParams, Route) {
  auto r = http::route_request("GET", "/studies/711280073/delta?duration=1h");
  EXPECT_EQ(r.endpoint, http::Endpoint::study_delta);
  EXPECT_EQ(r.contract_segment, "711280073");
  EXPECT_EQ(r.query, "duration=1h");
  EXPECT_EQ(http::route_request("GET", "/studies/AAPL/delta").contract_segment, "AAPL");
  EXPECT_EQ(http::route_request("POST", "/studies/1/delta").endpoint, http::Endpoint::bad_method);
  EXPECT_EQ(http::route_request("OPTIONS", "/studies/1/delta").endpoint, http::Endpoint::preflight);
  EXPECT_EQ(http::route_request("GET", "/studies/1").endpoint, http::Endpoint::not_found);
  EXPECT_EQ(http::route_request("GET", "/studies/1/other").endpoint, http::Endpoint::not_found);
}

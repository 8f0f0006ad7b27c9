// Routing of the contract endpoints, and contract specs in the paths that
// take a contract id.
#include "http/contract_endpoints.hpp"
#include "http/router.hpp"

#include <gtest/gtest.h>

namespace {

using http::Endpoint;
using http::route_request;

TEST(ContractRoutes, SearchIsALiteralPathBeforeTheContract) {
  auto r = route_request("GET", "/contracts/search?symbol=ES&sec_type=FUT");
  EXPECT_EQ(r.endpoint, Endpoint::contract_search);
  EXPECT_EQ(r.query, "symbol=ES&sec_type=FUT");
  r = route_request("GET", "/contracts/265598");
  EXPECT_EQ(r.endpoint, Endpoint::contract);
  EXPECT_EQ(r.contract_segment, "265598");
  r = route_request("GET", "/contracts/ES:FUT:CME:USD:202703/status");
  EXPECT_EQ(r.endpoint, Endpoint::contract_status);
  EXPECT_EQ(r.contract_segment, "ES:FUT:CME:USD:202703");
  EXPECT_EQ(route_request("GET", "/contracts/1/other").endpoint, Endpoint::not_found);
  EXPECT_EQ(route_request("GET", "/contracts").endpoint, Endpoint::not_found);
  EXPECT_EQ(route_request("POST", "/contracts/1").endpoint, Endpoint::bad_method);
  EXPECT_EQ(route_request("OPTIONS", "/contracts/search").endpoint, Endpoint::preflight);
}

TEST(ContractRoutes, SpecsInStreamHistoryAndWebSocketPaths) {
  auto r = route_request("GET", "/stream/AAPL/BidAsk");
  EXPECT_EQ(r.endpoint, Endpoint::stream);
  EXPECT_EQ(r.contract_segment, "AAPL");
  EXPECT_TRUE(http::is_contract_spec(r.contract_segment));
  r = route_request("GET", "/ws/stream/EUR%3ACASH%3AIDEALPRO%3AUSD/MidPoint");
  EXPECT_EQ(r.endpoint, Endpoint::ws_stream);
  EXPECT_EQ(r.contract_segment, "EUR:CASH:IDEALPRO:USD") << "percent-decoded";
  r = route_request("GET", "/history/ES:FUT:CME:USD:202703/Last");
  EXPECT_EQ(r.endpoint, Endpoint::history);
  EXPECT_EQ(r.contract_segment, "ES:FUT:CME:USD:202703");
  EXPECT_FALSE(http::is_contract_spec("265598"));
  EXPECT_TRUE(http::is_contract_spec("-1"));
  EXPECT_FALSE(http::is_contract_spec(""));
}

TEST(ContractRoutes, LookupErrorsCarryRetryAfterAndCandidates) {
  contracts::LookupError e{429, "RATE_LIMIT_EXCEEDED", "busy", "retry", 3, {}};
  auto r = http::lookup_error_response(e);
  EXPECT_EQ(r.status, 429);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Retry-After");
  EXPECT_EQ(r.headers[0].second, "3");
  tws::ContractDetails d;
  d.contract.con_id = 42;
  d.contract.symbol = "ES";
  e = contracts::LookupError{400, "AMBIGUOUS_CONTRACT", "2 match", "add the expiry", 0, {d, d}};
  r = http::lookup_error_response(e);
  EXPECT_TRUE(r.headers.empty());
  EXPECT_NE(r.body.find("\"code\":\"AMBIGUOUS_CONTRACT\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"candidates\":[{\"contract_id\":42"), std::string::npos) << r.body;
}

} // namespace

#include "tws/error_codes.hpp"

#include <gtest/gtest.h>

namespace {

using tws::ErrorKind;

TEST(ErrorCodes, FarmNoticesAreInformation) {
  for (int code : {2104, 2106, 2158, 2107, 2108, 2119}) {
    EXPECT_EQ(tws::classify_error(code).kind, ErrorKind::info) << code;
    EXPECT_TRUE(tws::is_farm_notice(code)) << code;
  }
  EXPECT_EQ(tws::classify_error(2103).kind, ErrorKind::warning);
  EXPECT_TRUE(tws::is_farm_notice(2103));
  EXPECT_FALSE(tws::is_farm_notice(200));
}

TEST(ErrorCodes, RequestLevelErrorsEndTheRequest) {
  for (int code : {200, 354, 10089, 10168, 10189, 10190, 321, 322, 102})
    EXPECT_EQ(tws::classify_error(code).kind, ErrorKind::request_failed) << code;
}

TEST(ErrorCodes, DegradedButContinuing) {
  for (int code : {10167, 10090, 10197, 100, 2110, 2150})
    EXPECT_EQ(tws::classify_error(code).kind, ErrorKind::warning) << code;
}

TEST(ErrorCodes, ConnectivityAndConnection) {
  for (int code : {1100, 1101, 1102, 1300})
    EXPECT_EQ(tws::classify_error(code).kind, ErrorKind::connectivity) << code;
  EXPECT_EQ(tws::classify_error(326).kind, ErrorKind::connection_fatal);
}

TEST(ErrorCodes, ClientErrorsHaveMessages) {
  const std::error_code ec = tws::ClientError::client_id_in_use;
  EXPECT_EQ(ec.category().name(), std::string("tws-client"));
  EXPECT_NE(ec.message().find("326"), std::string::npos);
  EXPECT_EQ(std::error_code(tws::ClientError::ok).message(), "ok");
}

} // namespace

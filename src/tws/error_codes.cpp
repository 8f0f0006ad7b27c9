#include "tws/error_codes.hpp"

#include <string>

namespace tws {

bool is_farm_notice(int code) {
  switch (code) {
  case 2103:
  case 2104:
  case 2105:
  case 2106:
  case 2107:
  case 2108:
  case 2119:
  case 2157:
  case 2158: return true;
  default: return false;
  }
}

ErrorClass classify_error(int code) {
  switch (code) {
  // Farm and other information notices.
  case 2104: return {ErrorKind::info, "market data farm connection is OK"};
  case 2106: return {ErrorKind::info, "HMDS data farm connection is OK"};
  case 2158: return {ErrorKind::info, "sec-def data farm connection is OK"};
  case 2107: return {ErrorKind::info, "HMDS data farm connection is inactive"};
  case 2108: return {ErrorKind::info, "market data farm connection is inactive"};
  case 2119: return {ErrorKind::info, "market data farm is connecting"};
  case 2103: return {ErrorKind::warning, "market data farm connection is broken"};
  case 2105: return {ErrorKind::warning, "HMDS data farm connection is broken"};
  case 2157: return {ErrorKind::warning, "sec-def data farm connection is broken"};
  case 2110: return {ErrorKind::warning, "connectivity between TWS and server is broken"};
  // Connectivity between TWS and IB.
  case 1100: return {ErrorKind::connectivity, "connectivity between IB and TWS lost"};
  case 1101: return {ErrorKind::connectivity, "connectivity restored, data lost: resubscribe"};
  case 1102: return {ErrorKind::connectivity, "connectivity restored, data maintained"};
  case 1300: return {ErrorKind::connectivity, "TWS socket port has been reset"};
  // The API connection itself.
  case 326: return {ErrorKind::connection_fatal, "client id already in use"};
  case 100: return {ErrorKind::warning, "max rate of messages per second exceeded"};
  // Requests that are over.
  case 200: return {ErrorKind::request_failed, "no security definition found"};
  case 101: return {ErrorKind::request_failed, "max number of tickers reached"};
  case 102: return {ErrorKind::request_failed, "duplicate ticker id"};
  case 162: return {ErrorKind::request_failed, "historical market data service error"};
  case 321: return {ErrorKind::request_failed, "error validating request"};
  case 322: return {ErrorKind::request_failed, "error processing request"};
  case 354: return {ErrorKind::request_failed, "market data not subscribed"};
  case 10089: return {ErrorKind::request_failed, "market data requires additional subscription"};
  case 10168: return {ErrorKind::request_failed, "market data not subscribed, delayed disabled"};
  case 10189: return {ErrorKind::request_failed, "failed to request tick-by-tick data"};
  case 10190: return {ErrorKind::request_failed, "max number of tick-by-tick requests reached"};
  // Requests that go on, degraded.
  case 10090: return {ErrorKind::warning, "part of requested market data is not subscribed"};
  case 10167: return {ErrorKind::warning, "displaying delayed market data"};
  case 10197: return {ErrorKind::warning, "no market data during competing live session"};
  case 300: return {ErrorKind::warning, "cannot find the ticker id to cancel"};
  case 366: return {ErrorKind::warning, "no historical data query found"};
  default: break;
  }
  if (code >= 2100 && code <= 2199) return {ErrorKind::warning, "TWS warning"};
  return {ErrorKind::request_failed, "TWS error"};
}

namespace {
class ClientCategory final : public std::error_category {
public:
  const char* name() const noexcept override { return "tws-client"; }
  std::string message(int ev) const override {
    switch (static_cast<ClientError>(ev)) {
    case ClientError::ok: return "ok";
    case ClientError::connect_failed: return "could not connect to TWS / IB Gateway";
    case ClientError::handshake_failed: return "the peer did not answer the TWS API handshake";
    case ClientError::handshake_timeout: return "TWS did not complete the API handshake in time";
    case ClientError::unsupported_version: return "TWS answered with an unsupported server version";
    case ClientError::client_id_in_use: return "client id already in use (TWS error 326)";
    case ClientError::not_connected: return "not connected to TWS";
    case ClientError::connection_lost: return "connection to TWS lost";
    case ClientError::protocol_error: return "TWS sent bytes that break the protocol framing";
    case ClientError::request_failed: return "TWS rejected the request";
    case ClientError::timeout: return "TWS did not answer in time";
    case ClientError::cancelled: return "cancelled";
    }
    return "unknown client error";
  }
};
} // namespace

const std::error_category& client_category() noexcept {
  static const ClientCategory category;
  return category;
}

} // namespace tws

// What a TWS error/notice code means for a client (tws-protocol.md §6):
// information, a warning, the end of one request, or a connection event.
//
// Pure functions; thread-safe.
#pragma once

#include <string_view>
#include <system_error>

namespace tws {

enum class ErrorKind {
  info,            // farm OK notices and the like: log, nothing to do
  warning,         // something degraded; requests continue (10167, 2103, 100...)
  request_failed,  // the request with that id is over (200, 10190, 354...)
  connectivity,    // 1100/1101/1102/1300: TWS <-> IB connectivity
  connection_fatal // 326 etc.: this API connection is refused / closing
};

struct ErrorClass {
  ErrorKind kind;
  std::string_view meaning; // short, for logs and user messages
};

ErrorClass classify_error(int code);

/// True for the farm-status family (2103/2104, 2105/2106, 2107/2108, 2119, 2157/2158).
bool is_farm_notice(int code);

/// Errors of the Client itself (never sent by TWS).
enum class ClientError {
  ok = 0,
  connect_failed,      // no port accepted a connection
  handshake_failed,    // the peer did not answer like TWS
  handshake_timeout,   // the peer did not finish the handshake in time
  unsupported_version, // TWS answered outside [100, 187]
  client_id_in_use,    // error 326
  not_connected,       // request while disconnected
  connection_lost,     // socket closed / reset / dead
  protocol_error,      // framing lost (bad length prefix)
  request_failed,      // TWS answered the request with an error
  timeout,             // TWS did not answer the request in time
  cancelled,           // disconnect() or the caller cancelled
};

const std::error_category& client_category() noexcept;
inline std::error_code make_error_code(ClientError e) noexcept {
  return {static_cast<int>(e), client_category()};
}

} // namespace tws

template <> struct std::is_error_code_enum<tws::ClientError> : std::true_type {};

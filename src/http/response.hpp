// A complete HTTP/1.1 response as ib-stream-server sends it, and the API's
// error JSON (api.md §2): `{"error":{"code","message","details"},"timestamp"}`.
// Transport code writes serialize_response() as is; building responses as
// plain values keeps the endpoints testable without sockets.
//
// Pure functions; thread-safe.
#pragma once

#include "http/cors_policy.hpp"

#include <string>
#include <string_view>

namespace http {

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  HeaderList headers; // extra headers (CORS, Allow, Retry-After, ...)
};

/// "Not Found" for 404 etc.
std::string_view reason_phrase(int status);

/// Status line, headers (Content-Type, Content-Length, Connection, extra),
/// blank line and body.
std::string serialize_response(const Response& r, bool keep_alive);

/// The API's error body. `extra_members`, when given, are further members
/// of the error object as raw JSON (`"candidates":[...]`).
std::string error_body(std::string_view code, std::string_view message, std::string_view details,
                       std::string_view extra_members = {});
Response error_response(int status, std::string_view code, std::string_view message,
                        std::string_view details = {});

} // namespace http

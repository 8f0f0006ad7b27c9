#include "http/response.hpp"

#include "stream/tick_json.hpp"

namespace http {

std::string_view reason_phrase(int status) {
  switch (status) {
  case 200: return "OK";
  case 204: return "No Content";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 413: return "Payload Too Large";
  case 426: return "Upgrade Required";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  default: return "Unknown";
  }
}

std::string serialize_response(const Response& r, bool keep_alive) {
  std::string out;
  out.reserve(256 + r.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(r.status);
  out += ' ';
  out += reason_phrase(r.status);
  out += "\r\nServer: ib-stream\r\n";
  if (r.status != 204) {
    out += "Content-Type: ";
    out += r.content_type;
    out += "\r\nContent-Length: ";
    out += std::to_string(r.body.size());
    out += "\r\nCache-Control: no-store\r\n";
  }
  out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  for (const auto& [name, value] : r.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "\r\n";
  if (r.status != 204) out += r.body;
  return out;
}

std::string error_body(std::string_view code, std::string_view message, std::string_view details,
                       std::string_view extra_members) {
  std::string out = "{\"error\":{\"code\":";
  stream::append_json_string(out, code);
  out += ",\"message\":";
  stream::append_json_string(out, message);
  out += ",\"details\":";
  stream::append_json_string(out, details);
  if (!extra_members.empty()) {
    out += ',';
    out += extra_members;
  }
  out += "},\"timestamp\":";
  stream::append_json_string(out, stream::iso_now());
  out += '}';
  return out;
}

Response error_response(int status, std::string_view code, std::string_view message,
                        std::string_view details) {
  return Response{status, error_body(code, message, details), "application/json", {}};
}

} // namespace http

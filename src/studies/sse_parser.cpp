#include "studies/sse_parser.hpp"

#include <charconv>

namespace studies {

std::vector<SseEvent> SseParser::feed(std::string_view bytes) {
  std::vector<SseEvent> out;
  for (char c : bytes) {
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') continue; // the LF of a CRLF
    }
    if (c == '\r' || c == '\n') {
      after_cr_ = c == '\r';
      line(partial_, out);
      partial_.clear();
      continue;
    }
    partial_ += c;
  }
  return out;
}

void SseParser::reset() {
  partial_.clear();
  after_cr_ = false;
  first_line_ = true;
  have_data_ = false;
  pending_ = SseEvent{};
}

void SseParser::line(std::string_view l, std::vector<SseEvent>& out) {
  if (first_line_) {
    first_line_ = false;
    if (l.starts_with("\xEF\xBB\xBF")) l.remove_prefix(3);
  }
  if (l.empty()) {
    if (have_data_) out.push_back(std::move(pending_));
    pending_ = SseEvent{};
    have_data_ = false;
    return;
  }
  if (l.front() == ':') return;
  const auto colon = l.find(':');
  std::string_view name = l.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = l.substr(colon + 1);
    if (value.starts_with(' ')) value.remove_prefix(1);
  }
  if (name == "data") {
    if (have_data_) pending_.data += '\n';
    pending_.data += value;
    have_data_ = true;
  } else if (name == "id") {
    if (value.find('\0') == std::string_view::npos) pending_.id = std::string(value);
  } else if (name == "event") {
    pending_.event = std::string(value);
  } else if (name == "retry") {
    long v = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec == std::errc() && p == value.data() + value.size()) retry_ms_ = v;
  }
}

} // namespace studies

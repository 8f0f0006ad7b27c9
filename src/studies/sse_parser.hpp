// An incremental parser of a text/event-stream body (the WHATWG
// event-stream format): bytes go in as they arrive, in any pieces; complete
// events come out. Lines end with CRLF, LF or CR (a CR at the end of a piece
// waits for the next piece); comments (":") and unknown fields are ignored;
// several data lines join with "\n"; a block without data is no event but
// may still set the id or retry.
//
// A value type; not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace studies {

struct SseEvent {
  std::optional<std::string> id; // when the block had an `id:` field
  std::string event;             // the `event:` field, usually empty
  std::string data;
};

class SseParser {
public:
  /// Feeds body bytes; returns the events they completed, in order.
  std::vector<SseEvent> feed(std::string_view bytes);
  /// The `retry:` value last seen, milliseconds.
  std::optional<long> retry_ms() const { return retry_ms_; }
  /// Forgets a partial line/event (a new connection starts clean).
  void reset();

private:
  void line(std::string_view l, std::vector<SseEvent>& out);

  std::string partial_;    // an unfinished line
  bool after_cr_ = false;  // the last byte was CR: a following LF belongs to it
  bool first_line_ = true; // a UTF-8 BOM is skipped only at the very start
  bool have_data_ = false;
  SseEvent pending_;
  std::optional<long> retry_ms_;
};

} // namespace studies

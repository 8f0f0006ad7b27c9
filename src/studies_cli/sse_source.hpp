// One SSE stream of one tick type (GET /stream/{contract_id}/{tick_type}),
// read incrementally over Beast. It begins after a tick (LiveStart::after:
// the record was read up to it through /replay, --since): its first request
// resumes with that tick's id as `Last-Event-ID`. Else, with
// LiveStart::since, its connections ask for the record from then (`since=`)
// until a tick has come; after that, and always without it, they resume. On a dropped connection,
// an HTTP 429/503, silence past the server's keep-alive, or a `complete` other than `stopped`, it
// reconnects with capped, jittered backoff and resumes with `Last-Event-ID` (the id as the server
// sent it: `seq` or `seq.sub`, see event_id.hpp); gaps (an `info` ticks_lost, or a jump in the live
// sequence numbers) are reported on stderr. Refusals that retrying cannot fix (400, 401, 403, 404)
// and a server that cannot be reached at all at the first attempt are fatal.
//
// Not thread-safe: every call and callback on the executor's one thread.
#pragma once

#include "studies/sse_parser.hpp"
#include "studies_cli/event_id.hpp"
#include "studies_cli/live_source.hpp"
#include "studies_cli/resume_point.hpp"
#include "studies_cli/tick_source.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace studies_cli {

class SseSource : public LiveSource, public std::enable_shared_from_this<SseSource> {
public:
  SseSource(boost::asio::any_io_executor ex, ServerAddress server, int contract_id,
            std::string tick_type, std::string api_key, LiveStart start, SourceEvents events);

  void start() override;
  void stop() override;

private:
  enum class Next { reconnect, stop };
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<Next> stream_once();
  void on_event(const studies::SseEvent& e);
  void on_info(const studies::StreamEvent& ev);
  std::string target() const;
  std::string what() const; // "the Last stream"

  boost::asio::any_io_executor ex_;
  ServerAddress server_;
  int contract_id_;
  std::string tick_type_;
  std::string api_key_;
  std::string since_; // --since as given, for a type not in the replay; empty: live only
  SourceEvents events_;
  boost::beast::tcp_stream stream_;
  boost::asio::steady_timer timer_;
  studies::SseParser parser_;
  Backoff backoff_;
  bool stopping_ = false;
  bool ended_ = false;
  bool ever_connected_ = false;
  int connections_ = 0;
  // Per connection:
  bool got_event_ = false;
  bool first_tick_ = true;
  bool first_info_ = true;
  bool lost_reported_ = false;
  bool got_complete_ = false;      // a `complete` came before the end of the response
  bool got_tick_ = false;          // across connections: since_ is no longer asked for
  std::optional<EventId> last_id_; // across connections: the resume point
};

} // namespace studies_cli

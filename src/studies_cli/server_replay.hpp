// --replay-from / --replay-to, and the record part of --since: one SSE
// request to the server's record (GET
// /replay/{contract_id}?tick_types=&start=|duration=&end=&speed=), read over
// Beast. Its `tick` events (every tick type interleaved in time order by
// the server) go to SourceEvents::tick; `complete` with reason `replay_end`
// is SourceEvents::ended. No reconnect: an HTTP error (the server's message),
// a connection that fails, and a replay that ends without `complete` (or 45 s
// of silence, not even a keep-alive) are SourceEvents::fatal, one line each;
// a 404 (nothing recorded) goes to on_not_recorded instead when it is set.
//
// Not thread-safe: every call and callback on the executor's one thread.
#pragma once

#include "studies/sse_parser.hpp"
#include "studies_cli/live_source.hpp"
#include "studies_cli/tick_source.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace studies_cli {

struct ReplayRange {
  std::string start;    // the server's forms: ISO-8601, Unix s or ms, a day
  std::string duration; // instead of start: "15m", "2h" (ending at end)
  std::string end;
  std::string speed; // "max", "1", "10", ...
};

class ServerReplay : public LiveSource, public std::enable_shared_from_this<ServerReplay> {
public:
  ServerReplay(boost::asio::any_io_executor ex, ServerAddress server, int contract_id,
               std::vector<std::string> tick_types, ReplayRange range, std::string api_key,
               SourceEvents events);

  void start() override;
  void stop() override;

  /// The request's path and query.
  std::string target() const;
  /// What the messages call this request ("the replay" unless set).
  void describe_as(std::string what) { what_ = std::move(what); }
  /// A 404 (nothing recorded for the contract) calls this with the
  /// server's message instead of SourceEvents::fatal.
  void on_not_recorded(std::function<void(const std::string& message)> f) {
    not_recorded_ = std::move(f);
  }

private:
  boost::asio::awaitable<void> run();
  /// Handles one event; false once the replay is over (complete or fatal).
  bool on_event(const studies::SseEvent& e);
  void fail(int exit_code, const std::string& message);

  boost::asio::any_io_executor ex_;
  ServerAddress server_;
  int contract_id_;
  std::vector<std::string> tick_types_;
  ReplayRange range_;
  std::string api_key_;
  SourceEvents events_;
  std::string what_ = "the replay";
  std::function<void(const std::string&)> not_recorded_;
  boost::beast::tcp_stream stream_;
  studies::SseParser parser_;
  bool stopping_ = false;
  bool done_ = false; // complete, or a fatal error reported
  long long ticks_ = 0;
};

} // namespace studies_cli

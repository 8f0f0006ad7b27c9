// Every tick type of one contract over one WebSocket
// (/ws/stream/{contract_id}/multi, api.md §5): sends `subscribe` for one
// tick type, `multi_subscribe` for several,
// routes `tick` messages by request_id / tick_type, and re-subscribes a
// tick type whose subscription completed (timeout, limit). On a lost
// connection it reconnects with capped, jittered backoff and subscribes
// again; WebSocket has no resume, so it reports that ticks of the outage
// are lost. Each tick type begins from its LiveStart: after the last tick
// the replay applied (--since read the record through /replay), its
// subscription asks for `params.since` = that tick's IB second and drops
// the ticks of that second the replay already applied (SecondSkip, no
// resume over WebSocket); else with `since` (--since) it asks for the record
// from then; either until a tick of its type has come. Types that begin
// alike share one `subscribe`/`multi_subscribe`, the others get one
// `subscribe` each. The key goes in the `api_key` query parameter.
//
// Not thread-safe: every call and callback on the executor's one thread.
#pragma once

#include "studies_cli/live_source.hpp"
#include "studies_cli/resume_point.hpp"
#include "studies_cli/tick_source.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace studies_cli {

class WsSource : public LiveSource, public std::enable_shared_from_this<WsSource> {
public:
  WsSource(boost::asio::any_io_executor ex, ServerAddress server, int contract_id,
           std::vector<std::string> tick_types, std::string api_key,
           std::map<std::string, LiveStart> starts, SourceEvents events);

  void start() override;
  void stop() override;

private:
  enum class Next { reconnect, stop };
  using Socket = boost::beast::websocket::stream<boost::beast::tcp_stream>;

  boost::asio::awaitable<void> run();
  boost::asio::awaitable<Next> connect_once();
  /// Handles one server message; may queue messages to send in out_.
  /// False: stop for good (a fatal refusal, or everything stopped).
  bool on_message(const std::string& text);
  std::string subscribe_message(const std::vector<std::string>& tick_types);
  /// The subscribe messages of every tick type (a new connection).
  std::vector<std::string> subscribe_all();
  /// A subscription's `params` for a tick type (its since while it has had
  /// no tick).
  std::string params_of(const std::string& tick_type);
  std::string target() const;

  boost::asio::any_io_executor ex_;
  ServerAddress server_;
  int contract_id_;
  std::vector<std::string> tick_types_;
  std::string api_key_;
  /// How a tick type begins, until its first tick.
  struct TypeStart {
    std::string since; // params.since; empty: live only
    SecondSkip skip;   // the replay's ticks of that second, dropped
    bool got_tick = false;
  };
  std::map<std::string, TypeStart> starts_; // by tick type
  SourceEvents events_;
  std::optional<Socket> ws_;
  boost::asio::steady_timer timer_;
  Backoff backoff_;
  bool stopping_ = false;
  bool ever_connected_ = false;
  bool got_tick_ = false; // on this connection
  bool retry_ = false;    // the subscription was refused for now: reconnect
  int next_id_ = 1;
  std::map<std::string, std::string> requests_; // request_id -> tick_type
  std::vector<std::string> out_;                // messages to send
};

} // namespace studies_cli

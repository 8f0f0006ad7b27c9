// stream::RemoteUpstream: where the Hub of an edge node gets its streams
// instead of TWS (HubConfig::remote). An edge holds no TWS connection: a
// publisher node does, and hands each stream's ticks and notices over a
// message bus (src/bus/edge_source.* implements this over NATS JetStream).
//
// Every stream keeps the publisher's sequence numbers: a tick arrives with
// its sequence, and the edge's log numbers it so, so that ids are the same
// on every edge (a client moved to another edge resumes there).
//
// Thread-safety: the Hub calls these members on its strand. Callbacks may
// run on any thread (the bus client's); the Hub posts them to its strand.
#pragma once

#include "tws/messages.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace stream {

struct OpenError;

/// The publisher's answer to an open: the stream runs there now.
struct RemoteOpened {
  tws::ContractDetails details; // what the info event shows, and the hours
  std::uint64_t last_seq = 0;   // the stream's last sequence number at the answer
};

/// One event of a remote stream, in order.
struct RemoteEvent {
  enum class Kind {
    tick,   // seq: its sequence; payload: the WebSocket tick suffix (wire_formats.hpp)
    notice, // seq: the last tick before it; the notice's fields below
    ended,  // the publisher ended the stream: code "stopped" or "failed" (+ the error's fields)
  };
  Kind kind = Kind::tick;
  std::uint64_t seq = 0;
  std::string payload;
  bool error = false; // a notice: an `error` event, else `info`
  std::string code;
  std::string message;
  std::string details;
  std::string next_open; // info market_closed
  std::string period;    // market_closed: LogEntry::record ("<from> <to>")
};

/// The state of the link to the publisher, for /health.
struct RemoteStatus {
  bool bus_connected = false;
  std::string bus_url;   // the bus server the link uses
  std::string bus_error; // why it is down
  /// The publisher's last heartbeat (empty when none came recently).
  bool publisher_seen = false;
  std::string publisher; // its name
  bool tws_connected = false;
  std::string tws_host;
  int tws_port = 0;
  int tws_client_id = 0;
  int tws_server_version = 0;
  std::string tws_connected_since;
};

/// A piece of the publisher's answer to a request forwarded to it.
struct ForwardChunk {
  bool ok = false;   // false: `error` says why (no publisher answered, ...)
  std::string data;  // the next bytes of the publisher's HTTP response, as it sent them
  bool last = false; // the response ended with these bytes
  std::string error;
};

class RemoteFeed {
public:
  virtual ~RemoteFeed() = default; // stops the feed: no callback after it returns
};

class RemoteUpstream {
public:
  virtual ~RemoteUpstream() = default;

  /// Starts the link; `on_link(up)` whenever it comes up or goes down.
  virtual void start(std::function<void(bool up)> on_link) = 0;
  virtual bool up() const = 0;
  virtual RemoteStatus status() const = 0;

  /// Asks the publisher to run stream (con_id, type): `done` gets the
  /// stream's details and last sequence, or the error a single node would
  /// have answered (404, 429, 503...).
  virtual void
  open(int con_id, tws::TickType type,
       std::function<void(std::optional<RemoteOpened>, std::optional<OpenError>)> done) = 0;
  /// Reads the stream from sequence `from_seq` on (ticks, and the notices
  /// published from now on).
  virtual std::unique_ptr<RemoteFeed> feed(int con_id, tws::TickType type, std::uint64_t from_seq,
                                           std::function<void(RemoteEvent)> on_event) = 0;
  /// The streams this edge reads (said again periodically, so that the
  /// publisher keeps them, and a publisher taking over reopens them).
  virtual void keep(std::vector<std::pair<int, tws::TickType>> streams) = 0;
  /// Contract lookups, answered by the publisher's TWS connection (the same
  /// results and errors; ClientError::not_connected without a publisher).
  virtual void
  contract_details(tws::Contract query,
                   std::function<void(std::error_code, std::optional<tws::ErrorMessage>,
                                      std::vector<tws::ContractDetails>)>
                       done) = 0;
  virtual void
  matching_symbols(std::string pattern,
                   std::function<void(std::error_code, std::optional<tws::ErrorMessage>,
                                      std::vector<tws::ContractDescription>)>
                       done) = 0;
  /// A GET the publisher answers from its record (`/history/...`): its whole
  /// HTTP response (status line, headers, body), pulled one piece at a
  /// time: the first with `target` (path and query) and the client's
  /// `origin` (for CORS), the next ones with `target` empty; `id` names the
  /// transfer. `done` runs once per call.
  virtual void forward(const std::string& id, const std::string& target, const std::string& origin,
                       std::function<void(ForwardChunk)> done) = 0;
  /// This edge no longer reads the stream.
  virtual void release(int con_id, tws::TickType type) = 0;
  virtual void stop() = 0;
};

} // namespace stream

// bus::Publisher: the publisher role (`--role publisher`). It holds TWS (its
// Hub) and hands every stream it runs to the edges through NATS JetStream:
//
// - Leadership: publishers elect one leader through a key-value lease
//   (bucket `ibs_publisher`, key `leader`); only the leader starts its Hub
//   (subscribes at TWS) and answers. A standby takes over when the lease
//   expires; a leader that loses its lease stops (on_lost).
// - Streams: each (contract, tick type) the leader runs (asked by an edge,
//   or tracked) is the JetStream stream `IBS_<contract>_<type>` on subject
//   `ibs.ticks.<contract>.<type>`; each tick is published with
//   Nats-Expected-Last-Sequence = seq - 1 and Nats-Msg-Id, so that the
//   JetStream sequence equals the stream's sequence number (the SSE id). Its
//   payload is the tick's WebSocket suffix (stream/wire_formats.hpp). Notices
//   go to `ibs.events.<contract>.<type>` (JSON).
// - Control: `ibs.ctl.open` (request/reply: the answer a single node gives),
//   `ibs.ctl.keep` (an edge's streams, every second; a stream no edge keeps
//   for keep_timeout is closed, and a leader that takes over reopens what
//   the edges keep), `ibs.ctl.release`; `ibs.status` (the leader's
//   heartbeat: its name and TWS connection, every second).
//
// Threads: the publisher has an event loop thread of its own (control
// messages, the streams' log readers, the heartbeat) and a lease thread.
// seq_base() runs on the Hub's strand. Everything else may be called from
// any thread.
#pragma once

#include "bus/link.hpp"
#include "stream/hub.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace bus {

struct PublisherConfig {
  LinkOptions link;
  std::string name; // this publisher's name (the lease holder, the heartbeat)
  /// Retention of each JetStream stream.
  std::chrono::seconds max_age{86400};
  std::int64_t max_bytes = 1LL << 30;
  /// The lease: a standby takes over within about this long after the
  /// leader's last renewal.
  std::chrono::milliseconds lease_ttl{3000};
  /// A stream no edge said it reads for this long is closed here.
  std::chrono::milliseconds keep_timeout{10000};
};

struct PublisherStatus {
  bool bus_connected = false;
  std::string bus_text;
  bool leader = false;
  std::string leader_name; // who holds the lease ("" when unknown)
  std::uint64_t published = 0;
  std::uint64_t publish_failures = 0;
  std::string last_failure;
};

class Publisher {
public:
  /// Connects (in the background). Throws bus::Error for an unusable URL.
  static std::shared_ptr<Publisher> create(PublisherConfig config);
  virtual ~Publisher() = default;

  /// Starts the lease; once held, `on_leader` (start the Hub: TWS) runs on
  /// the publisher's thread; a held lease lost runs `on_lost`.
  virtual void start(std::shared_ptr<stream::Hub> hub, std::function<void()> on_leader,
                     std::function<void()> on_lost) = 0;
  /// JetStream's last sequence of the stream (0: none): the Hub numbers a
  /// stream it has not numbered yet from there (HubConfig::seq_base_hint).
  virtual std::uint64_t seq_base(int con_id, tws::TickType type) = 0;
  virtual PublisherStatus status() const = 0;
  /// Where this server listens (and its API key): the history the edges
  /// forward (`ibs.ctl.http`, publisher_forward.cpp) is asked of it there.
  virtual void set_http(std::string host, std::uint16_t port,
                        std::optional<std::string> api_key) = 0;
  /// Releases the lease, stops reading, closes the link.
  virtual void stop() = 0;
};

/// `IBS_265598_Last`, `ibs.ticks.265598.Last`, `ibs.events.265598.Last`.
std::string stream_name(int con_id, tws::TickType type);
std::string ticks_subject(int con_id, tws::TickType type);
std::string events_subject(int con_id, tws::TickType type);

} // namespace bus

// The scale-out roles in the server (README "Scale-out"): with
// IB_STREAM_NATS a node is a publisher (holds TWS, publishes its streams to
// NATS JetStream, src/bus/publisher.hpp) or an edge (serves clients from a
// publisher's streams, src/bus/edge_source.hpp); without, the single node.
//
// Thread-safety: health() may be called from any thread.
#pragma once

#include "bus/publisher.hpp"
#include "http/server_config.hpp"
#include "stream/hub.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace http {

/// The "nats" object of GET /health.
struct BusHealth {
  std::string role; // publisher | edge
  std::string node;
  bool connected = false; // to nats-server
  std::string server;     // its URL, or why it is unreachable
  // publisher
  bool leader = false;
  std::string leader_name;
  std::uint64_t published = 0;
  std::uint64_t publish_failures = 0;
  std::string last_failure;
  // edge
  bool publisher_seen = false;
  std::string publisher;
};

class ScaleOut {
public:
  /// Nothing to do without c.nats. Sets up `hub` (an edge's remote, a
  /// publisher's sequence numbering from JetStream). Throws bus::Error.
  ScaleOut(const ServerConfig& c, std::uint16_t listen_port, stream::HubConfig& hub);
  bool enabled() const { return !role_.empty(); }
  /// Starts the Hub as the role says: a single node and an edge at once, a
  /// publisher once it leads (`lost`: it lost the lease).
  void start(const std::shared_ptr<stream::Hub>& hub, std::function<void()> lost);
  void stop();
  /// A publisher: where its own listener is (the edges' history is asked
  /// of it there), and its API key.
  void listening(const std::string& host, std::uint16_t port,
                 const std::optional<std::string>& api_key);
  /// An edge: a GET /history/... forwarded to the publisher, its raw HTTP
  /// answer pulled piece by piece (see stream::RemoteUpstream::forward).
  /// `id` empty: a new transfer (its id is returned through `transfer`).
  bool is_edge() const { return edge_ != nullptr; }
  void forward(const std::string& id, const std::string& target, const std::string& origin,
               std::function<void(stream::ForwardChunk)> done);
  std::string new_transfer_id();
  std::optional<BusHealth> health() const;

private:
  std::string role_, node_;
  std::shared_ptr<bus::Publisher> publisher_;
  std::shared_ptr<stream::RemoteUpstream> edge_;
  std::atomic<std::uint64_t> transfers_{0};
};

} // namespace http

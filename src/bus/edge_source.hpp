// bus::EdgeSource: the edge role's stream::RemoteUpstream over NATS (see
// publisher.hpp for the subjects). open() is a request to `ibs.ctl.open`,
// answered by the leading publisher as a single node would answer; a feed
// is an ordered JetStream consumer of the stream's ticks from a sequence
// (their JetStream sequence is the id) plus a subscription to its notices;
// keep() and release() tell the publisher which streams this edge reads;
// `ibs.status` (the leader's heartbeat) tells whether a publisher is there
// and how its TWS connection is.
//
// Thread-safety: members may be called from any thread; callbacks run on
// the NATS client's threads.
#pragma once

#include "bus/link.hpp"
#include "stream/remote_upstream.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace bus {

struct EdgeConfig {
  LinkOptions link;
  std::string name; // this edge's name (the publisher keeps streams per edge)
  /// How long an open waits for the publisher's answer.
  std::chrono::milliseconds open_timeout{8000};
  /// No heartbeat for this long: no publisher (the edge says so).
  std::chrono::milliseconds publisher_silence{3000};
};

/// Throws bus::Error for an unusable URL. Connects at start().
std::shared_ptr<stream::RemoteUpstream> make_edge_source(EdgeConfig config);

} // namespace bus

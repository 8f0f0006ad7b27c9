#include "http/scaleout.hpp"

#include "bus/edge_source.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

namespace http {

namespace {

std::string default_node_name(const ServerConfig& c, std::uint16_t port) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
    std::snprintf(host, sizeof host, "node");
  return std::string(host) + "-" + std::to_string(port != 0 ? port : c.listen_port);
}

} // namespace

ScaleOut::ScaleOut(const ServerConfig& c, std::uint16_t listen_port, stream::HubConfig& hub) {
  if (c.nats.empty()) return;
  role_ = c.role;
  node_ = c.node_name.empty() ? default_node_name(c, listen_port) : c.node_name;
  bus::LinkOptions link;
  link.url = c.nats;
  if (role_ == "publisher") {
    bus::PublisherConfig pc;
    pc.link = link;
    pc.name = node_;
    pc.max_age = std::chrono::seconds(c.nats_max_age);
    pc.max_bytes = c.nats_max_bytes;
    pc.lease_ttl = std::chrono::milliseconds(c.lease_ms);
    publisher_ = bus::Publisher::create(pc);
    // A stream this publisher has not numbered yet goes on from JetStream's
    // last sequence (another publisher led before), or the record's.
    auto record_hint = std::move(hub.seq_base_hint);
    // (The publisher holds the Hub: a weak reference back, no cycle.)
    hub.seq_base_hint = [record_hint, weak = std::weak_ptr<bus::Publisher>(publisher_)](
                            int con_id, tws::TickType type) {
      const std::uint64_t record = record_hint ? record_hint(con_id, type) : 0;
      const auto p = weak.lock();
      return std::max(record, p ? p->seq_base(con_id, type) : 0);
    };
  } else {
    bus::EdgeConfig ec;
    ec.link = link;
    ec.name = node_;
    edge_ = bus::make_edge_source(ec);
    hub.remote = edge_;
    hub.seq_base_hint = nullptr; // an edge numbers as the publisher does
  }
  spdlog::info("scale-out: {} {} on NATS {}", role_, node_, c.nats);
}

void ScaleOut::start(const std::shared_ptr<stream::Hub>& hub, std::function<void()> lost) {
  if (!publisher_) {
    hub->start();
    return;
  }
  publisher_->start(
      hub,
      [hub] {
        spdlog::info("publisher: leading: connecting to TWS");
        hub->start();
      },
      std::move(lost));
}

void ScaleOut::stop() {
  if (!enabled()) return;
  if (publisher_) publisher_->stop();
  // Every connection is gone (an edge's with its Hub's shutdown): the NATS
  // client's own threads end with the process's work.
  bus::release_library(std::chrono::seconds(2));
}

void ScaleOut::listening(const std::string& host, std::uint16_t port,
                         const std::optional<std::string>& api_key) {
  if (!publisher_) return;
  // A listener on every address is asked on loopback.
  const std::string at = host == "0.0.0.0" ? "127.0.0.1" : (host == "::" ? "::1" : host);
  publisher_->set_http(at, port, api_key);
}

void ScaleOut::forward(const std::string& id, const std::string& target, const std::string& origin,
                       std::function<void(stream::ForwardChunk)> done) {
  if (!edge_) {
    done({false, {}, false, "not an edge"});
    return;
  }
  edge_->forward(id, target, origin, std::move(done));
}

std::string ScaleOut::new_transfer_id() { return node_ + "-" + std::to_string(++transfers_); }

std::optional<BusHealth> ScaleOut::health() const {
  if (!enabled()) return std::nullopt;
  BusHealth h;
  h.role = role_;
  h.node = node_;
  if (publisher_) {
    const auto s = publisher_->status();
    h.connected = s.bus_connected;
    h.server = s.bus_text;
    h.leader = s.leader;
    h.leader_name = s.leader_name;
    h.published = s.published;
    h.publish_failures = s.publish_failures;
    h.last_failure = s.last_failure;
  } else {
    const auto s = edge_->status();
    h.connected = s.bus_connected;
    h.server = s.bus_connected ? s.bus_url : s.bus_error;
    h.publisher_seen = s.publisher_seen;
    h.publisher = s.publisher;
  }
  return h;
}

} // namespace http

// The scale-out scenario of ib-stream-bench (`--scenario scaleout`): the
// harness's TWS feed (stamped ticks, tws_feed.hpp) -> an ib-stream-server
// publisher (`--role publisher`) -> nats-server -js -> E edges (`--role
// edge`) -> N clients per edge, and optionally M clients of the publisher
// itself (the single-node path, for the latency NATS adds). One JSON line
// per rate step: the edges' clients and the publisher's clients measured
// apart (latency, drops), the CPU of the publisher, of nats-server and of the
// edges, the publisher's ticks_published, nats-server's message counters
// (/varz) and what it sent to the edges (/connz, and TCP bytes from `ss`).
//
// Thread-safety: run_scaleout runs on the caller's thread (the feed and the
// load generators have threads of their own).
#pragma once

#include "load_generator.hpp"

#include <string>
#include <vector>

namespace bench {

struct ScaleoutConfig {
  std::string server;      // ib-stream-server
  std::string server_log;  // each node's stderr goes to server_log + "." + node name
  std::string nats_server; // empty: found on the machine
  std::string data_dir;    // nats-server's store and the nodes' --data-dir, below it
  Transport transport = Transport::sse;
  int edges = 1;
  int clients = 1;     // per edge
  int pub_clients = 0; // clients of the publisher itself
  std::vector<double> rates;
  double duration = 2.0;
  double warmup = 0.3;
  int buffer_size = 1000;
  double max_p99_ms = 10.0;
  double stop_p99_ms = 100.0;
  bool stop_on_fail = true;
};

/// Runs the steps; prints one JSON line per step on stdout. 0 on success.
int run_scaleout(const ScaleoutConfig& config);

} // namespace bench

// NatsProcess: `nats-server -js` as a child process of the harness, for the
// scale-out scenario: loopback client and monitoring ports (free ones), its
// JetStream store in a directory the caller owns, its log to a file. The
// monitoring port's /varz gives the server's message and byte counters.
//
// Thread-safety: use from one thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bench {

/// The counters of nats-server's /varz (all clients, since it started).
struct NatsCounters {
  bool ok = false; // /varz was read and held every counter
  std::uint64_t in_msgs = 0;
  std::uint64_t out_msgs = 0;
  std::uint64_t in_bytes = 0;
  std::uint64_t out_bytes = 0;
};

/// What nats-server sent to the connections of one kind (GET /connz: the
/// connections whose name starts with a prefix), since they connected.
struct NatsTraffic {
  int connections = 0;
  std::uint64_t msgs = 0;       // messages sent to them (out_msgs)
  std::uint64_t msg_bytes = 0;  // their headers and payloads (out_bytes)
  std::uint64_t wire_bytes = 0; // TCP bytes sent on their sockets, framing included
                                // (`ss -ti`: bytes_sent; 0 when ss is missing)
};

class NatsProcess {
public:
  /// Starts `binary` (empty: nats-server from /usr/sbin, /usr/bin or PATH)
  /// with its store in `store_dir` and its output appended to `log_path`
  /// (empty: discarded); waits until it accepts connections.
  NatsProcess(const std::string& binary, const std::string& store_dir, const std::string& log_path);
  /// SIGTERM, then SIGKILL after a few seconds.
  ~NatsProcess();
  NatsProcess(const NatsProcess&) = delete;
  NatsProcess& operator=(const NatsProcess&) = delete;

  pid_t pid() const { return pid_; }
  /// nats://127.0.0.1:PORT
  std::string url() const;
  NatsCounters counters() const;
  /// The traffic to the connections named `name_prefix`... (the edges name
  /// theirs "ib-stream edge NODE").
  NatsTraffic traffic_to(const std::string& name_prefix) const;

private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::uint16_t monitor_port_ = 0;
};

/// The first unsigned number after `"key":` (spaces allowed) in a JSON text
/// (/varz, /health), or nullopt.
std::optional<std::uint64_t> json_count(std::string_view body, std::string_view key);

/// The path of nats-server, or "" when it is not installed.
std::string find_nats_server();

} // namespace bench

// ServerProcess: ib-stream-server as a child process on a free loopback port
// (`--listen 127.0.0.1:0`; the port is read from its one stdout line).
//
// Thread-safety: use from one thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

/// Ends a child process: SIGTERM, up to 5 s to exit, then SIGKILL; reaped.
void stop_child(pid_t pid);

class ServerProcess {
public:
  /// Starts `binary` with `args` (plus --listen), stderr to `log_path` (empty:
  /// inherited), and waits for its listening line and for /ready. The child
  /// gets this process's environment, with `env` ("NAME=value" entries, e.g.
  /// an LD_PRELOAD) added in place of any variables of the same names.
  ServerProcess(const std::string& binary, std::vector<std::string> args,
                const std::string& log_path, const std::vector<std::string>& env = {});
  /// SIGTERM, then SIGKILL after a few seconds.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const { return pid_; }
  std::uint16_t port() const { return port_; }

private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

/// Status code of a GET on 127.0.0.1:port (0 when the request failed).
int http_get_status(std::uint16_t port, const std::string& path);

} // namespace bench

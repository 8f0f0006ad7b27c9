#include "nats_process.hpp"

#include "server_process.hpp"

#include "http_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

namespace bench {
namespace {

/// A port the kernel says is free now (bound to 0, read back, released).
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("no free loopback port for nats-server");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool accepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

/// bytes_sent of each established TCP socket of local port `port`, by the
/// peer's port (`ss -tinH`: a socket line, then its indented info line).
std::map<std::uint16_t, std::uint64_t> bytes_sent_by_peer(std::uint16_t port) {
  std::map<std::uint16_t, std::uint64_t> out;
  const std::string cmd =
      "ss -tinH state established '( sport = :" + std::to_string(port) + " )' 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char line[4096];
  int peer = -1;
  while (std::fgets(line, sizeof line, p)) {
    const std::string_view l(line);
    if (!l.empty() && l[0] != ' ' && l[0] != '\t') {
      // "0 0 127.0.0.1:4222 127.0.0.1:54321": the last colon is the peer's port.
      const auto colon = l.rfind(':');
      peer = colon == std::string_view::npos ? -1 : std::atoi(line + colon + 1);
      continue;
    }
    const auto at = l.find("bytes_sent:");
    if (at != std::string_view::npos && peer > 0)
      out[static_cast<std::uint16_t>(peer)] = std::strtoull(line + at + 11, nullptr, 10);
  }
  ::pclose(p);
  return out;
}

} // namespace

std::optional<std::uint64_t> json_count(std::string_view body, std::string_view key) {
  const std::string quoted = "\"" + std::string(key) + "\"";
  auto at = body.find(quoted);
  if (at == std::string_view::npos) return std::nullopt;
  at = body.find(':', at + quoted.size());
  if (at == std::string_view::npos) return std::nullopt;
  ++at;
  while (at < body.size() && body[at] == ' ') ++at;
  if (at >= body.size() || body[at] < '0' || body[at] > '9') return std::nullopt;
  return std::strtoull(body.data() + at, nullptr, 10);
}

std::string find_nats_server() {
  namespace fs = std::filesystem;
  std::vector<fs::path> dirs{"/usr/sbin", "/usr/bin"};
  if (const char* path = std::getenv("PATH")) {
    std::string_view rest(path);
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      dirs.emplace_back(std::string(rest.substr(0, colon)));
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  for (const auto& d : dirs) {
    const auto p = d / "nats-server";
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return "";
}

NatsProcess::NatsProcess(const std::string& binary, const std::string& store_dir,
                         const std::string& log_path) {
  const std::string path = binary.empty() ? find_nats_server() : binary;
  if (path.empty())
    throw std::runtime_error("nats-server not found (Debian package nats-server, or "
                             "--nats-server PATH)");
  port_ = free_port();
  monitor_port_ = free_port();
  std::vector<std::string> args{
      path,  "-a",  "127.0.0.1", "-p", std::to_string(port_), "-m", std::to_string(monitor_port_),
      "-js", "-sd", store_dir};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    const int out = ::open(log_path.empty() ? "/dev/null" : log_path.c_str(),
                           O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    ::execv(path.c_str(), argv.data());
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (!accepts(port_) || !counters().ok) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("nats-server exited at start (" + path + "; log " + log_path + ")");
    }
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("nats-server did not listen on 127.0.0.1:" + std::to_string(port_));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

NatsProcess::~NatsProcess() { stop_child(pid_); }

std::string NatsProcess::url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

NatsTraffic NatsProcess::traffic_to(const std::string& name_prefix) const {
  NatsTraffic t;
  const auto r = http_get(monitor_port_, "/connz?limit=4096");
  if (r.status != 200) return t;
  const auto sent = bytes_sent_by_peer(port_);
  // One connection per "cid" object; its counters, port and name inside.
  const std::string_view body(r.body);
  const std::string wanted = "\"name\": \"" + name_prefix;
  std::size_t at = body.find("\"cid\":");
  while (at != std::string_view::npos) {
    const auto next = body.find("\"cid\":", at + 6);
    const auto conn =
        body.substr(at, next == std::string_view::npos ? body.size() - at : next - at);
    at = next;
    if (conn.find(wanted) == std::string_view::npos) continue;
    ++t.connections;
    t.msgs += json_count(conn, "out_msgs").value_or(0);
    t.msg_bytes += json_count(conn, "out_bytes").value_or(0);
    const auto peer = json_count(conn, "port");
    const auto it = peer ? sent.find(static_cast<std::uint16_t>(*peer)) : sent.end();
    if (it != sent.end()) t.wire_bytes += it->second;
  }
  return t;
}

NatsCounters NatsProcess::counters() const {
  const auto r = http_get(monitor_port_, "/varz");
  NatsCounters c;
  if (r.status != 200) return c;
  const auto in_msgs = json_count(r.body, "in_msgs");
  const auto out_msgs = json_count(r.body, "out_msgs");
  const auto in_bytes = json_count(r.body, "in_bytes");
  const auto out_bytes = json_count(r.body, "out_bytes");
  if (!in_msgs || !out_msgs || !in_bytes || !out_bytes) return c;
  c = {true, *in_msgs, *out_msgs, *in_bytes, *out_bytes};
  return c;
}

} // namespace bench

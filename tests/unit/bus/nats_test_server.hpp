// Test support for src/bus: a real nats-server with JetStream on a free
// loopback port and its store in a fresh temporary directory (stopped and
// removed by the destructor; start/stop again to simulate a restart), and
// small thread-safe collectors for what the NATS client's threads deliver.
#pragma once

#include "bus/link.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace bus_test {

/// The nats-server binary: $IBS_NATS_SERVER, else Debian's
/// /usr/sbin/nats-server, else /usr/bin/nats-server; "" when none is there.
inline std::string nats_server_path() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("IBS_NATS_SERVER"); env != nullptr && *env != '\0') {
    candidates.emplace_back(env);
  }
  candidates.emplace_back("/usr/sbin/nats-server");
  candidates.emplace_back("/usr/bin/nats-server");
  for (const auto& path : candidates) {
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return {};
}

inline bool nats_server_available() { return !nats_server_path().empty(); }

inline constexpr const char* nats_server_missing =
    "nats-server is not installed (Debian package nats-server, or set IBS_NATS_SERVER)";

/// Polls `done` every 10 ms until it holds or `timeout` passes.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

inline int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("no free loopback port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

inline bool port_accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

/// nats-server -a 127.0.0.1 -p <port> -js -sd <tmp>/js, its output in
/// <tmp>/server.log.
class NatsServer {
public:
  NatsServer() : port_(free_loopback_port()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ibs-nats-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
  }
  ~NatsServer() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

  /// Starts it and waits until the port accepts (throws after 10 s).
  void start() {
    if (pid_ > 0) return;
    std::string port = std::to_string(port_);
    std::string store = dir_ + "/js";
    std::string log = dir_ + "/server.log";
    std::vector<std::string> args = {"nats-server", "-a",  "127.0.0.1", "-p",
                                     port,          "-js", "-sd",       store};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::string binary = nats_server_path();
    int rc = ::posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      throw std::runtime_error("cannot start nats-server");
    }
    bool up = eventually(
        [&] {
          int status = 0;
          if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("nats-server exited at start (see " + log + ")");
          }
          return port_accepts(port_);
        },
        std::chrono::milliseconds(10000));
    if (!up) throw std::runtime_error("nats-server does not accept on port " + port);
  }

  /// SIGTERM (nats-server flushes its store) and waits for the exit.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

private:
  int port_;
  std::string dir_;
  pid_t pid_ = -1;
};

/// The options the tests use: quick reconnects and heartbeats.
inline bus::LinkOptions test_options(const std::string& url) {
  bus::LinkOptions o;
  o.url = url;
  o.name = "ibs-unit-test";
  o.reconnect_wait = std::chrono::milliseconds(100);
  o.request_timeout = std::chrono::milliseconds(2000);
  o.ordered_heartbeat = std::chrono::milliseconds(250);
  return o;
}

/// Link states as reported, in order.
class StateLog {
public:
  std::function<void(bus::LinkState, std::string)> callback() {
    return [this](bus::LinkState s, std::string why) {
      std::lock_guard lock(mutex_);
      states_.emplace_back(s, std::move(why));
    };
  }
  std::size_t count(bus::LinkState s) const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& [state, why] : states_) n += state == s ? 1 : 0;
    return n;
  }
  std::vector<std::pair<bus::LinkState, std::string>> all() const {
    std::lock_guard lock(mutex_);
    return states_;
  }

private:
  mutable std::mutex mutex_;
  std::vector<std::pair<bus::LinkState, std::string>> states_;
};

/// Messages as delivered, in order.
class Inbox {
public:
  std::function<void(bus::Message&&)> handler() {
    return [this](bus::Message&& m) {
      std::lock_guard lock(mutex_);
      messages_.push_back(std::move(m));
    };
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return messages_.size();
  }
  bool wait_for(std::size_t n,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    return eventually([&] { return size() >= n; }, timeout);
  }
  std::vector<bus::Message> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }

private:
  mutable std::mutex mutex_;
  std::vector<bus::Message> messages_;
};

} // namespace bus_test

#include "tws_feed.hpp"

#include "stamped_tick.hpp"
#include "tws/messages.hpp"
#include "tws/wire.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>

namespace bench {
namespace {

constexpr int kServerVersion = tws::kMaxServerVersion;
/// Catch-up cap per contract and wake-up: a stalled reader gets a burst, not a flood.
constexpr std::uint64_t kMaxBatch = 4096;

void write_all(int fd, const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, 100);
        continue;
      }
      throw std::runtime_error("feed write failed");
    }
    off += static_cast<std::size_t>(n);
  }
}

tws::ContractDetails details_for(int con_id) {
  tws::ContractDetails d;
  d.contract.con_id = con_id;
  d.contract.symbol = "BENCH" + std::to_string(con_id);
  d.contract.sec_type = "STK";
  d.contract.exchange = "SMART";
  d.contract.primary_exchange = "NASDAQ";
  d.contract.currency = "USD";
  d.contract.local_symbol = d.contract.symbol;
  d.contract.trading_class = "NMS";
  d.market_name = "NMS";
  d.min_tick = 0.01;
  d.long_name = "Benchmark contract " + std::to_string(con_id);
  d.time_zone_id = "US/Eastern";
  d.order_types = "LMT,MKT";
  d.valid_exchanges = "SMART,NASDAQ";
  d.price_magnifier = 1;
  d.stock_type = "COMMON";
  d.min_size = 1;
  d.size_increment = 1;
  d.suggested_size_increment = 100;
  return d;
}

struct Subscription {
  int req_id = 0;
  double rate = 0;            // ticks/s, set on every rate change
  std::uint64_t seq = 0;      // last sequence number written
  std::uint64_t due_sent = 0; // ticks written since the current rate started
};

/// One API connection (the server's tws::Client).
class Session {
public:
  explicit Session(int fd) : fd_(fd) {}
  ~Session() { ::close(fd_); }
  int fd() const { return fd_; }

  /// Reads what is there; false when the peer closed or broke the protocol.
  bool on_readable(std::map<int, Subscription>& subs, std::map<int, int>& req_to_con) {
    char* buf = reader_.prepare(65536);
    const ssize_t n = ::recv(fd_, buf, 65536, MSG_DONTWAIT);
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    reader_.commit(static_cast<std::size_t>(n));
    for (;;) {
      if (phase_ == 0) {
        const auto prefix = reader_.take_raw(4);
        if (!prefix) return true;
        if (*prefix != std::string_view("API\0", 4)) return false;
        phase_ = 1;
        continue;
      }
      std::string_view payload;
      std::error_code ec;
      const auto st = reader_.next(payload, ec);
      if (st == tws::FrameReader::Status::need_more) return true;
      if (st == tws::FrameReader::Status::error) return false;
      if (phase_ == 1) {
        phase_ = 2;
        write_all(fd_, tws::encode_server_hello(kServerVersion, "20240120 10:15:30 EST"));
        continue;
      }
      handle(payload, subs, req_to_con);
    }
  }

private:
  void handle(std::string_view payload, std::map<int, Subscription>& subs,
              std::map<int, int>& req_to_con) {
    const auto d = tws::decode_request(payload, kServerVersion);
    if (d.error) return;
    std::visit(
        [&](const auto& m) {
          using T = std::decay_t<decltype(m)>;
          if constexpr (std::is_same_v<T, tws::StartApi>) {
            write_all(fd_, tws::encode(tws::ManagedAccounts{"DU0000001"}) +
                               tws::encode(tws::NextValidId{1}));
          } else if constexpr (std::is_same_v<T, tws::ReqContractDetails>) {
            write_all(fd_, tws::encode(tws::ContractData{m.req_id, details_for(m.contract.con_id)},
                                       kServerVersion) +
                               tws::encode(tws::ContractDataEnd{m.req_id}));
          } else if constexpr (std::is_same_v<T, tws::ReqTickByTickData>) {
            auto& s = subs[m.contract.con_id];
            s.req_id = m.req_id;
            req_to_con[m.req_id] = m.contract.con_id;
          } else if constexpr (std::is_same_v<T, tws::CancelTickByTickData>) {
            const auto it = req_to_con.find(m.req_id);
            if (it != req_to_con.end()) {
              subs.erase(it->second);
              req_to_con.erase(it);
            }
          } else if constexpr (std::is_same_v<T, tws::ReqCurrentTime>) {
            write_all(fd_,
                      tws::encode(tws::CurrentTime{static_cast<std::int64_t>(::time(nullptr))}));
          }
        },
        d.request);
  }

  int fd_;
  int phase_ = 0; // 0: "API\0", 1: version range, 2: API
  tws::FrameReader reader_;
};

} // namespace

TwsFeed::TwsFeed() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0)
    throw std::runtime_error("feed: cannot listen on loopback");
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
}

TwsFeed::~TwsFeed() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

void TwsFeed::set_rate(double per_contract) {
  rate_ = per_contract;
  ++rate_epoch_;
}

void TwsFeed::set_contract_rate(int con_id, double per_second) {
  {
    std::lock_guard lock(rates_mutex_);
    contract_rates_[con_id] = per_second;
  }
  ++rate_epoch_;
}

std::map<int, std::uint64_t> TwsFeed::last_seqs() const {
  std::lock_guard lock(seq_mutex_);
  return last_seqs_;
}

void TwsFeed::run() {
  std::unique_ptr<Session> session;
  std::map<int, Subscription> subs; // con_id -> subscription
  std::map<int, int> req_to_con;
  std::uint64_t epoch_seen = 0;
  std::uint64_t rate_start = now_ns();
  std::map<int, double> own_rates; // contract_rates_ as of the last epoch
  std::string batch;
  while (!stop_) {
    // Wake often enough for small batches, rarely enough to stay cheap.
    double total = 0;
    for (const auto& [con, s] : subs) total += s.rate;
    const long wait_ns =
        total > 0 ? std::clamp(static_cast<long>(1e9 / total), 50000L, 1000000L) : 20000000L;
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {session ? session->fd() : -1, POLLIN, 0}};
    const timespec ts{0, wait_ns};
    ::ppoll(fds, 2, &ts, nullptr);
    if (fds[0].revents & POLLIN) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd >= 0) {
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        session = std::make_unique<Session>(fd); // a reconnect replaces the old session
        subs.clear();
        req_to_con.clear();
      }
    }
    try {
      const std::size_t subs_before = subs.size();
      if (session && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
          !session->on_readable(subs, req_to_con)) {
        session.reset();
        subs.clear();
        req_to_con.clear();
      }
      subscriptions_ = static_cast<int>(subs.size());
      if (!session || subs.empty()) continue;
      // A new subscription starts on the current schedule: a rate change
      // restarts every contract's schedule, as a new epoch.
      if (rate_epoch_.load() != epoch_seen || subs.size() != subs_before) {
        epoch_seen = rate_epoch_.load();
        rate_start = now_ns();
        {
          std::lock_guard lock(rates_mutex_);
          own_rates = contract_rates_;
        }
        const double rate = rate_.load();
        for (auto& [con, s] : subs) {
          s.due_sent = 0;
          const auto it = own_rates.find(con);
          s.rate = it == own_rates.end() ? rate : it->second;
        }
        total = 0;
        for (const auto& [con, s] : subs) total += s.rate;
      }
      if (total <= 0) continue;
      const std::uint64_t stamp = now_ns();
      const double elapsed = static_cast<double>(stamp - rate_start) / 1e9;
      batch.clear();
      std::uint64_t n_ticks = 0;
      for (auto& [con, s] : subs) {
        const auto due = static_cast<std::uint64_t>(std::floor(s.rate * elapsed));
        std::uint64_t n = due > s.due_sent ? due - s.due_sent : 0;
        if (n > kMaxBatch) {
          s.due_sent += n - kMaxBatch; // too far behind: skip ahead, do not flood
          n = kMaxBatch;
        }
        for (std::uint64_t i = 0; i < n; ++i)
          batch += tws::encode(stamped_tick(s.req_id, stamp, ++s.seq));
        s.due_sent += n;
        n_ticks += n;
      }
      if (n_ticks == 0) continue;
      write_all(session->fd(), batch);
      sent_ += n_ticks;
      std::lock_guard lock(seq_mutex_);
      for (const auto& [con, s] : subs) last_seqs_[con] = s.seq;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "feed: %s\n", e.what());
      session.reset();
      subs.clear();
      req_to_con.clear();
    }
  }
}

} // namespace bench

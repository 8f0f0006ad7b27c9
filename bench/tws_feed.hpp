// TwsFeed: the benchmark's TWS. A loopback listener that speaks enough of the
// TWS API for ib-stream-server's tws::Client (handshake, startApi,
// managedAccounts, nextValidId, contract details, tick-by-tick subscribe and
// cancel, currentTime) and then writes stamped BidAsk ticks (stamped_tick.hpp)
// for every subscribed contract at a set rate: one rate for all contracts,
// or a rate of its own for a contract (the recorder scenario's tracked
// contracts keep theirs while the clients' contract pauses between windows). The encoders are the
// project's own (src/tws/messages), so the frames are what TWS and ib-tws-sim send.
//
// Thread-safety: the feed runs on its own thread; set_rate(), sent() and
// subscriptions() may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

namespace bench {

class TwsFeed {
public:
  TwsFeed();
  ~TwsFeed();
  TwsFeed(const TwsFeed&) = delete;
  TwsFeed& operator=(const TwsFeed&) = delete;

  std::uint16_t port() const { return port_; }
  /// Ticks per second per subscribed contract; 0 pauses the feed. Contracts
  /// with a rate of their own (set_contract_rate) keep it.
  void set_rate(double per_contract);
  /// Ticks per second of one contract, whatever set_rate says; 0 pauses it.
  void set_contract_rate(int con_id, double per_second);
  /// Ticks written so far, all contracts.
  std::uint64_t sent() const { return sent_.load(); }
  /// Contracts with a live tick-by-tick subscription.
  int subscriptions() const { return subscriptions_.load(); }
  /// The last sequence number written per contract id.
  std::map<int, std::uint64_t> last_seqs() const;

private:
  void run();

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<double> rate_{0.0};
  std::atomic<std::uint64_t> rate_epoch_{0}; // bumped by set_rate
  std::atomic<std::uint64_t> sent_{0};
  std::atomic<int> subscriptions_{0};
  std::atomic<bool> stop_{false};
  mutable std::mutex rates_mutex_;
  std::map<int, double> contract_rates_; // set_contract_rate's, read on an epoch change
  mutable std::mutex seq_mutex_;
  std::map<int, std::uint64_t> last_seqs_;
  std::thread thread_;
};

} // namespace bench

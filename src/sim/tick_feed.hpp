// The running markets and their tick-by-tick subscriptions.
//
// One Market per contract, started by the contract's first subscription and
// then running until the simulator stops (with the wall clock it starts at
// the event due then, taken from the MarketArchive), shared by every subscriber: two
// clients on the same contract and tick type receive the same ticks. A
// steady timer emits every event that is due (EventClock) and fans it out;
// each tick is encoded once per (event, tick type) and stamped with each
// subscriber's reqId (TickFrame). Delivery pauses while FaultState says so;
// the market keeps running meanwhile, so time and event indices stay true.
// With --hours real, the ticks of a second in which the contract's market is
// closed (MarketHours) are not delivered either.
//
// Thread-safety: none; lives on the simulator's strand. Delivering never
// calls back into the feed (sessions post their own closes), so the
// subscriber lists are never changed while being walked.
#pragma once

#include "sim/event_clock.hpp"
#include "sim/market.hpp"
#include "sim/market_history.hpp"
#include "tws/messages.hpp"

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sim {

class ApiSession;
struct SimContext;

class TickFeed {
public:
  struct Subscription {
    std::weak_ptr<ApiSession> session;
    std::uint64_t conn = 0; // ApiSession::serial()
    int client_id = 0;
    int req_id = 0;
    tws::TickType type = tws::TickType::last;
    int con_id = 0;
    bool ignore_size = false; // BidAsk: only quotes whose prices moved
    std::uint64_t served = 0;
  };

  explicit TickFeed(SimContext& ctx);

  bool has(const ApiSession& session, int req_id) const;
  /// Subscriptions simulator-wide (what max_tick_by_tick limits).
  std::size_t active() const;
  /// Adds a subscription; starts the contract's market if it is the first.
  void subscribe(const std::shared_ptr<ApiSession>& session, int req_id, const CatalogEntry& entry,
                 tws::TickType type, bool ignore_size);
  /// Removes one subscription; false when there was none.
  bool cancel(const ApiSession& session, int req_id);
  void cancel_all(const ApiSession& session);
  /// Removes every subscription (1101, silent farm flap); returns them.
  std::vector<Subscription> forget_all();
  std::vector<Subscription> subscriptions_of(int con_id) const;

  /// Changes a contract's event rate, now if its market runs, else for
  /// when it starts.
  void set_rate(int con_id, double rate);
  double rate_of(int con_id) const;

  /// The clock of the contract's market and the number of events due now:
  /// the running market's, else (wall clock) the one it would run on; none
  /// for a market that has not started under the subscription clock.
  std::optional<MarketTimeline> timeline(const CatalogEntry& entry) const;

  /// "subscriptions":[...],"markets":[...],"served_ticks":N (no braces).
  void append_status(std::string& out) const;
  void stop();

private:
  struct Running {
    const CatalogEntry* entry;
    Market market;
    EventClock clock;
    std::vector<Subscription> subs;
  };

  /// The wall clock's EventClock: event i due at start_time + i / rate.
  EventClock wall_clock(int con_id, EventClock::Clock::time_point now) const;
  void schedule();
  void on_timer(std::uint64_t generation);
  void publish(Running& m, const MarketEvent& ev, std::int64_t time);

  SimContext& ctx_;
  std::map<int, Running> markets_;
  std::map<int, double> rate_overrides_; // admin `rate` before a market starts
  boost::asio::steady_timer timer_;
  std::uint64_t timer_generation_ = 0;
  bool timer_armed_ = false;
  EventClock::Clock::time_point armed_for_{};
  std::uint64_t served_ = 0;
  bool stopped_ = false;
};

} // namespace sim

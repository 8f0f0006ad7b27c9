// The live API connections and the client ids they hold.
//
// Client-id rule (tws-protocol.md §7.3): an id is in use while a connection
// that was accepted with it is open, and for client_id_hold seconds after
// that connection closed, however it closed (TWS cannot tell a crash from a
// clean exit either). A `refuse` restart forgets the holds.
//
// Thread-safety: none; used on the simulator's strand only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace sim {

class ApiSession;

class SessionRegistry {
public:
  using Clock = std::chrono::steady_clock;

  explicit SessionRegistry(Clock::duration hold) : hold_(hold) {}

  void add(const std::shared_ptr<ApiSession>& session);
  /// The session is closing: forget it and hold its client id (if any).
  void remove(const ApiSession& session, Clock::time_point now);

  /// Claims `client_id` for `session`. False when another live session has
  /// it or it is still held after a close.
  bool claim(int client_id, const ApiSession& session, Clock::time_point now);
  void clear_holds() { holds_.clear(); }

  /// The live sessions, in connection order (a copy: closing one while
  /// iterating is safe).
  std::vector<std::shared_ptr<ApiSession>> all() const;
  /// Sends ERR_MSG(-1, code, text) to every session past startApi.
  void broadcast_error(int code, std::string_view text) const;
  std::vector<int> held_ids(Clock::time_point now) const;
  std::size_t size() const { return sessions_.size(); }

private:
  Clock::duration hold_;
  std::map<std::uint64_t, std::weak_ptr<ApiSession>> sessions_; // by serial
  std::map<int, std::uint64_t> owners_;                         // client id -> serial
  std::map<int, Clock::time_point> holds_;                      // client id -> until
};

} // namespace sim

// The client messages of the WebSocket API (api.md §5), as typed values.
// A ws::MessageValidator produces them from text that matched its schema
// (schemas/ws/), so every value here is already within its documented range.
//
// Plain values; thread-safe as any value type.
#pragma once

#include "tws/messages.hpp"

#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace ws {

struct Subscribe {
  std::string id;      // client request id, 1..128 characters
  int contract_id = 0; // 1..2147483647, or 0 when `contract` is set
  /// contract_id given as a string: an id or a spec ("AAPL"), resolved by
  /// the server (1..64 characters).
  std::optional<std::string> contract;
  tws::TickType tick_type = tws::TickType::last;
  std::optional<int> limit;         // 1..10000; unset = unlimited
  std::optional<int> timeout;       // 5..3600 s; unset = the server default
  std::optional<std::string> since; // history then live (checked by the server)
};

struct MultiSubscribe {
  std::string id;
  int contract_id = 0;
  std::optional<std::string> contract;   // as in Subscribe
  std::vector<tws::TickType> tick_types; // 1..4, unique, in the client's order
  std::optional<int> limit;
  std::optional<int> timeout;
  std::optional<std::string> since;
};

struct Unsubscribe {
  std::string id;
  std::string request_id; // 1..128 characters
};

struct UnsubscribeAll {
  std::string id;
};

struct Ping {
  std::string id;
  /// The client's `timestamp`, echoed unchanged in `pong`: a number, a
  /// string (<= 64 characters) or null when the client sent none.
  boost::json::value timestamp;
};

struct GetStats {
  std::string id;
};

struct ListStreams {
  std::string id;
};

using ClientMessage = std::variant<Subscribe, MultiSubscribe, Unsubscribe, UnsubscribeAll, Ping,
                                   GetStats, ListStreams>;

/// Why a client message was refused (-> `error` INVALID_MESSAGE, details =
/// `message`).
struct ValidationError {
  /// One line naming the property, e.g.
  /// "data.params.limit: 0 is less than the minimum 1".
  std::string message;
  /// The failing property: "data.params.limit", "data.tick_types[1]", "id";
  /// empty when the message as a whole is wrong (not JSON, not an object).
  std::string path;
  /// The message's `id` when it had a valid one (a string of 1..128
  /// characters), so the error reply can carry it.
  std::optional<std::string> id;
};

} // namespace ws

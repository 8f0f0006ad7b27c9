// libFuzzer target: one WebSocket text message as a hostile client could
// send it, through what the server does with every received text frame
// (src/http/ws_session_messages.cpp): ws::MessageValidator::validate() (JSON
// parse, envelope and per-type JSON Schema, conversion to a typed message)
// and, for a refusal, the INVALID_MESSAGE reply.
//
// Input: the message text, as is.
//
// Invariants: the verdict is deterministic; an accepted message is within
// the ranges its schema documents (ids 1..128 characters, contract_id
// 1..2147483647, limit 1..10000, timeout 5..3600, 1..4 unique tick types,
// a ping timestamp that is null, a finite number or a string of <= 64
// characters)
// and, written back as JSON, validates again to the same value; a refusal
// carries the message's id exactly when it had a valid one, and its reply
// is one JSON object.
//
// Feeds: WebSocket text message: JSON, JSON Schema validation, typed message, error reply
//
// Build: cmake -DIBS_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++; run: scripts/fuzz.sh.
#include "fuzz_support.hpp"
#include "stream/json_text.hpp"
#include "ws/message_validator.hpp"
#include "ws/ws_messages.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

namespace {

namespace json = boost::json;
using fuzz::check;

bool valid_id(std::string_view id) {
  const std::size_t n = stream::utf8_length(id);
  return n >= 1 && n <= 128;
}

void check_params(const std::optional<int>& limit, const std::optional<int>& timeout) {
  if (limit) check(*limit >= 1 && *limit <= 10000);
  if (timeout) check(*timeout >= 5 && *timeout <= 3600);
}

void put_params(json::object& data, const std::optional<int>& limit,
                const std::optional<int>& timeout) {
  if (!limit && !timeout) return;
  json::object params;
  if (limit) params["limit"] = *limit;
  if (timeout) params["timeout"] = *timeout;
  data["params"] = std::move(params);
}

/// Checks the ranges of an accepted message and writes it back as JSON.
json::object check_and_write(const ws::ClientMessage& message) {
  json::object out;
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        check(valid_id(m.id));
        out["id"] = m.id;
        json::object data;
        if constexpr (std::is_same_v<T, ws::Subscribe>) {
          check(m.contract_id >= 1);
          check_params(m.limit, m.timeout);
          out["type"] = "subscribe";
          data["contract_id"] = m.contract_id;
          data["tick_type"] = tws::to_string(m.tick_type);
          put_params(data, m.limit, m.timeout);
        } else if constexpr (std::is_same_v<T, ws::MultiSubscribe>) {
          check(m.contract_id >= 1);
          check_params(m.limit, m.timeout);
          check(!m.tick_types.empty() && m.tick_types.size() <= 4);
          json::array types;
          for (std::size_t i = 0; i < m.tick_types.size(); ++i) {
            check(std::count(m.tick_types.begin(), m.tick_types.end(), m.tick_types[i]) == 1);
            types.emplace_back(tws::to_string(m.tick_types[i]));
          }
          out["type"] = "multi_subscribe";
          data["contract_id"] = m.contract_id;
          data["tick_types"] = std::move(types);
          put_params(data, m.limit, m.timeout);
        } else if constexpr (std::is_same_v<T, ws::Unsubscribe>) {
          check(valid_id(m.request_id));
          out["type"] = "unsubscribe";
          data["request_id"] = m.request_id;
        } else if constexpr (std::is_same_v<T, ws::Ping>) {
          const auto& ts = m.timestamp;
          check(ts.is_null() ||
                (ts.is_double() ? std::isfinite(ts.get_double()) : ts.is_number()) ||
                (ts.is_string() && stream::utf8_length(ts.get_string()) <= 64));
          out["type"] = "ping";
          if (!ts.is_null()) out["timestamp"] = ts;
        } else if constexpr (std::is_same_v<T, ws::UnsubscribeAll>) {
          out["type"] = "unsubscribe_all";
        } else if constexpr (std::is_same_v<T, ws::GetStats>) {
          out["type"] = "get_stats";
        } else {
          static_assert(std::is_same_v<T, ws::ListStreams>);
          out["type"] = "list_streams";
        }
        if (!data.empty()) out["data"] = std::move(data);
      },
      message);
  return out;
}

/// The id a refusal must carry: the message's `id` when it is a string of
/// 1..128 characters.
std::optional<std::string> expected_id(std::string_view text) {
  json::error_code ec;
  const json::value doc = json::parse(text, ec);
  if (ec || !doc.is_object()) return std::nullopt;
  const auto* id = doc.get_object().if_contains("id");
  if (!id || !id->is_string() || !valid_id(id->get_string())) return std::nullopt;
  return std::string(id->get_string());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const ws::MessageValidator& validator = ws::MessageValidator::shared();
  const std::string_view text = fuzz::as_text(data, size);

  const auto result = validator.validate(text);
  const auto again = validator.validate(text);
  check(result.index() == again.index());

  if (const auto* err = std::get_if<ws::ValidationError>(&result)) {
    const auto& err2 = std::get<ws::ValidationError>(again);
    check(err->message == err2.message && err->path == err2.path && err->id == err2.id);
    check(!err->message.empty());
    check(err->id == expected_id(text));
    json::error_code ec;
    const json::value reply =
        json::parse(ws::invalid_message_error("2026-01-01T00:00:00.000Z", *err), ec);
    check(!ec && reply.is_object());
    return 0;
  }

  const auto& message = std::get<ws::ClientMessage>(result);
  json::object first = check_and_write(message);
  const std::string written = json::serialize(first);
  const auto reparsed = validator.validate(written);
  const auto* back = std::get_if<ws::ClientMessage>(&reparsed);
  check(back != nullptr);
  json::object second = check_and_write(*back);
  // Boost.JSON 1.81 parses a decimal of more than 17 digits to a neighbour
  // of the nearest double: a number may come back one step away. Anything
  // else must come back exactly.
  const auto* t1 = first.if_contains("timestamp");
  const auto* t2 = second.if_contains("timestamp");
  if (t1 && t2 && t1->is_double() && t2->is_double()) {
    const double a = t1->get_double(), b = t2->get_double();
    check(a == b || std::nextafter(a, b) == b);
    first.erase("timestamp");
    second.erase("timestamp");
  }
  check(json::serialize(second) == json::serialize(first));
  return 0;
}

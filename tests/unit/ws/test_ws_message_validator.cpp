#include "ws/message_validator.hpp"
#include "ws/schema_document.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace {

const ws::MessageValidator& validator() { return ws::MessageValidator::shared(); }

ws::ValidationError error_of(std::string_view text) {
  auto r = validator().validate(text);
  if (!std::holds_alternative<ws::ValidationError>(r)) {
    ADD_FAILURE() << "accepted: " << text;
    return {};
  }
  return std::get<ws::ValidationError>(r);
}

template <class T> T message_of(std::string_view text) {
  auto r = validator().validate(text);
  if (auto* e = std::get_if<ws::ValidationError>(&r)) {
    ADD_FAILURE() << "rejected: " << text << ": " << e->message;
    return {};
  }
  auto& m = std::get<ws::ClientMessage>(r);
  if (!std::holds_alternative<T>(m)) {
    ADD_FAILURE() << "wrong message type for " << text;
    return {};
  }
  return std::get<T>(m);
}

void expect_error(std::string_view text, std::string_view path, std::string_view message) {
  SCOPED_TRACE(std::string(text));
  const auto e = error_of(text);
  EXPECT_EQ(e.path, path);
  EXPECT_EQ(e.message, message);
}

} // namespace

TEST(WsMessageValidator, MessageTypesComeFromTheEnvelopeSchema) {
  EXPECT_EQ(validator().message_types(),
            (std::vector<std::string>{"subscribe", "multi_subscribe", "unsubscribe",
                                      "unsubscribe_all", "ping", "get_stats", "list_streams"}));
}

TEST(WsMessageValidator, ValidSubscribe) {
  const auto m = message_of<ws::Subscribe>(
      R"({"type":"subscribe","id":"r1","data":{"contract_id":265598,"tick_type":"BidAsk",)"
      R"("params":{"limit":100,"timeout":60}}})");
  EXPECT_EQ(m.id, "r1");
  EXPECT_EQ(m.contract_id, 265598);
  EXPECT_EQ(m.tick_type, tws::TickType::bid_ask);
  EXPECT_EQ(m.limit, 100);
  EXPECT_EQ(m.timeout, 60);

  const auto bare = message_of<ws::Subscribe>(
      R"({"type":"subscribe","id":"x","data":{"contract_id":2147483647,"tick_type":"AllLast"}})");
  EXPECT_EQ(bare.contract_id, 2147483647);
  EXPECT_EQ(bare.tick_type, tws::TickType::all_last);
  EXPECT_FALSE(bare.limit);
  EXPECT_FALSE(bare.timeout);

  const auto empty_params = message_of<ws::Subscribe>(
      R"({"type":"subscribe","id":"x","data":{"contract_id":1,"tick_type":"Last","params":{}}})");
  EXPECT_EQ(empty_params.tick_type, tws::TickType::last);
  EXPECT_FALSE(empty_params.limit);
}

TEST(WsMessageValidator, AContractMayBeGivenAsASpecOrAnIdInAString) {
  const auto spec = message_of<ws::Subscribe>(
      R"({"type":"subscribe","id":"s","data":{"contract_id":"ES:FUT:CME:USD:202703","tick_type":"Last"}})");
  EXPECT_EQ(spec.contract_id, 0);
  EXPECT_EQ(spec.contract, "ES:FUT:CME:USD:202703");
  const auto text_id = message_of<ws::MultiSubscribe>(
      R"({"type":"multi_subscribe","id":"m","data":{"contract_id":"265598","tick_types":["Last"]}})");
  EXPECT_EQ(text_id.contract, "265598");
  const auto number = message_of<ws::Subscribe>(
      R"({"type":"subscribe","id":"n","data":{"contract_id":265598,"tick_type":"Last"}})");
  EXPECT_FALSE(number.contract);
  EXPECT_EQ(number.contract_id, 265598);
}

TEST(WsMessageValidator, ValidMultiSubscribeKeepsOrder) {
  const auto m = message_of<ws::MultiSubscribe>(
      R"({"type":"multi_subscribe","id":"m","data":{"contract_id":711280073,)"
      R"("tick_types":["MidPoint","Last","BidAsk","AllLast"],"params":{"timeout":3600}}})");
  EXPECT_EQ(m.contract_id, 711280073);
  EXPECT_EQ(m.tick_types,
            (std::vector<tws::TickType>{tws::TickType::mid_point, tws::TickType::last,
                                        tws::TickType::bid_ask, tws::TickType::all_last}));
  EXPECT_FALSE(m.limit);
  EXPECT_EQ(m.timeout, 3600);
}

TEST(WsMessageValidator, ValidOtherMessages) {
  EXPECT_EQ(message_of<ws::Unsubscribe>(
                R"({"type":"unsubscribe","id":"u","data":{"request_id":"req-7"}})")
                .request_id,
            "req-7");
  EXPECT_EQ(message_of<ws::UnsubscribeAll>(R"({"type":"unsubscribe_all","id":"a"})").id, "a");
  EXPECT_EQ(message_of<ws::GetStats>(R"({"type":"get_stats","id":"s"})").id, "s");
  EXPECT_EQ(message_of<ws::ListStreams>(R"({"type":"list_streams","id":"l"})").id, "l");

  const auto no_ts = message_of<ws::Ping>(R"({"type":"ping","id":"p"})");
  EXPECT_TRUE(no_ts.timestamp.is_null());
  const auto num = message_of<ws::Ping>(R"({"type":"ping","id":"p","timestamp":1736937000123})");
  EXPECT_EQ(num.timestamp.as_int64(), 1736937000123);
  const auto str =
      message_of<ws::Ping>(R"({"type":"ping","id":"p","timestamp":"2025-01-15T10:30:00.123Z"})");
  EXPECT_EQ(str.timestamp.as_string(), "2025-01-15T10:30:00.123Z");
  const auto frac = message_of<ws::Ping>(R"({"type":"ping","id":"p","timestamp":1736937000.5})");
  EXPECT_DOUBLE_EQ(frac.timestamp.as_double(), 1736937000.5);
  // Unicode ids pass through unchanged.
  EXPECT_EQ(message_of<ws::Ping>(R"({"type":"ping","id":"é✓"})").id, "é✓");
}

TEST(WsMessageValidator, NotJson) {
  const auto e = error_of(R"({"type":"ping",)");
  EXPECT_EQ(e.message.rfind("message is not valid JSON: ", 0), 0u) << e.message;
  EXPECT_EQ(e.path, "");
  EXPECT_FALSE(e.id);
  EXPECT_EQ(error_of("").message.rfind("message is not valid JSON: ", 0), 0u);
  EXPECT_EQ(error_of("ping").message.rfind("message is not valid JSON: ", 0), 0u);
}

TEST(WsMessageValidator, NotAnObject) {
  expect_error(R"([1,2])", "", "message must be a JSON object, got array");
  expect_error(R"("ping")", "", "message must be a JSON object, got string");
  expect_error("42", "", "message must be a JSON object, got integer");
}

TEST(WsMessageValidator, UnknownOrMissingType) {
  const std::string allowed =
      "subscribe, multi_subscribe, unsubscribe, unsubscribe_all, ping, get_stats, list_streams";
  expect_error(R"({"type":"subscribe_all","id":"1"})", "type",
               "type: \"subscribe_all\" is not one of " + allowed);
  expect_error(R"({"id":"1"})", "type",
               "type: required property is missing (one of " + allowed + ")");
  expect_error(R"({"type":7,"id":"1"})", "type", "type: expected string, got integer");
  // The id is still read, so the error reply can carry it.
  EXPECT_EQ(error_of(R"({"type":"nope","id":"abc"})").id, "abc");
}

TEST(WsMessageValidator, MissingFields) {
  expect_error(R"({"type":"subscribe","data":{"contract_id":1,"tick_type":"Last"}})", "id",
               "id: required property is missing");
  expect_error(R"({"type":"subscribe","id":"1"})", "data", "data: required property is missing");
  expect_error(R"({"type":"subscribe","id":"1","data":{"tick_type":"Last"}})", "data.contract_id",
               "data.contract_id: required property is missing");
  expect_error(R"({"type":"multi_subscribe","id":"1","data":{"contract_id":5}})", "data.tick_types",
               "data.tick_types: required property is missing");
  expect_error(R"({"type":"unsubscribe","id":"1","data":{}})", "data.request_id",
               "data.request_id: required property is missing");
  expect_error(R"({"type":"ping"})", "id", "id: required property is missing");
}

TEST(WsMessageValidator, WrongTypes) {
  expect_error(R"({"type":"subscribe","id":"1","data":{"contract_id":true,"tick_type":"Last"}})",
               "data.contract_id", "data.contract_id: expected integer or string, got boolean");
  expect_error(R"({"type":"subscribe","id":"1","data":{"contract_id":1.5,"tick_type":"Last"}})",
               "data.contract_id", "data.contract_id: expected integer or string, got number");
  expect_error(R"({"type":"subscribe","id":"1","data":{"contract_id":"","tick_type":"Last"}})",
               "data.contract_id", "data.contract_id: must be at least 1 characters long, got 0");
  expect_error(R"({"type":"subscribe","id":7,"data":{"contract_id":1,"tick_type":"Last"}})", "id",
               "id: expected string, got integer");
  expect_error(R"({"type":"subscribe","id":"1","data":[]})", "data",
               "data: expected object, got array");
  expect_error(
      R"({"type":"subscribe","id":"1","data":{"contract_id":1,"tick_type":"Last","params":{"limit":"5"}}})",
      "data.params.limit", "data.params.limit: expected integer, got string");
  expect_error(
      R"({"type":"multi_subscribe","id":"1","data":{"contract_id":1,"tick_types":"Last"}})",
      "data.tick_types", "data.tick_types: expected array, got string");
  expect_error(R"({"type":"ping","id":"1","timestamp":true})", "timestamp",
               "timestamp: expected number or string, got boolean");
  expect_error(R"({"type":"ping","id":"1","timestamp":null})", "timestamp",
               "timestamp: expected number or string, got null");
}

TEST(WsMessageValidator, OutOfRange) {
  expect_error(
      R"({"type":"subscribe","id":"1","data":{"contract_id":1,"tick_type":"Last","params":{"limit":0}}})",
      "data.params.limit", "data.params.limit: 0 is less than the minimum 1");
  expect_error(
      R"({"type":"subscribe","id":"1","data":{"contract_id":1,"tick_type":"Last","params":{"limit":10001}}})",
      "data.params.limit", "data.params.limit: 10001 is greater than the maximum 10000");
  expect_error(
      R"({"type":"multi_subscribe","id":"1","data":{"contract_id":1,"tick_types":["Last"],"params":{"timeout":4}}})",
      "data.params.timeout", "data.params.timeout: 4 is less than the minimum 5");
  expect_error(
      R"({"type":"subscribe","id":"1","data":{"contract_id":1,"tick_type":"Last","params":{"timeout":3601}}})",
      "data.params.timeout", "data.params.timeout: 3601 is greater than the maximum 3600");
  expect_error(R"({"type":"subscribe","id":"1","data":{"contract_id":0,"tick_type":"Last"}})",
               "data.contract_id", "data.contract_id: 0 is less than the minimum 1");
  expect_error(R"({"type":"subscribe","id":"1","data":{"contract_id":-3,"tick_type":"Last"}})",
               "data.contract_id", "data.contract_id: -3 is less than the minimum 1");
  expect_error(
      R"({"type":"subscribe","id":"1","data":{"contract_id":2147483648,"tick_type":"Last"}})",
      "data.contract_id", "data.contract_id: 2147483648 is greater than the maximum 2147483647");
  expect_error(
      R"({"type":"subscribe","id":"1","data":{"contract_id":18446744073709551615,"tick_type":"Last"}})",
      "data.contract_id",
      "data.contract_id: 18446744073709551615 is greater than the maximum 2147483647");
  expect_error(R"({"type":"ping","id":""})", "id", "id: must be at least 1 characters long, got 0");
  expect_error(R"({"type":"ping","id":")" + std::string(129, 'x') + R"("})", "id",
               "id: must be at most 128 characters long, got 129");
  expect_error(R"({"type":"ping","id":"1","timestamp":")" + std::string(65, '9') + R"("})",
               "timestamp", "timestamp: must be at most 64 characters long, got 65");
  expect_error(R"({"type":"unsubscribe","id":"1","data":{"request_id":""}})", "data.request_id",
               "data.request_id: must be at least 1 characters long, got 0");
}

// A number beyond a double's range parses to infinity, which a reply (the pong
// echoes the timestamp) could not write as JSON: refused wherever it is.
TEST(WsMessageValidator, NumbersBeyondADoubleAreRefused) {
  const std::string_view range = "number is out of range (beyond +/-1.7976931348623157e308)";
  expect_error(R"({"type":"ping","id":"p","timestamp":173256786E780015})", "timestamp",
               "timestamp: " + std::string(range));
  expect_error(R"({"type":"ping","id":"p","timestamp":-1e400})", "timestamp",
               "timestamp: " + std::string(range));
  expect_error(R"({"type":"get_stats","id":"s","extra":[1,2,1e309]})", "extra[2]",
               "extra[2]: " + std::string(range));
  EXPECT_EQ(error_of(R"({"type":"ping","id":"p","timestamp":1e400})").id, "p");
  // The largest finite double is a timestamp like any other.
  EXPECT_TRUE(message_of<ws::Ping>(R"({"type":"ping","id":"p","timestamp":1.7976931348623157e308})")
                  .timestamp.is_double());
}

TEST(WsMessageValidator, IdBoundsCountCharactersNotBytes) {
  std::string id;
  for (int i = 0; i < 128; ++i) id += "é"; // 2 bytes each
  EXPECT_EQ(message_of<ws::GetStats>(R"({"type":"get_stats","id":")" + id + R"("})").id, id);
}

TEST(WsMessageValidator, EnumViolations) {
  expect_error(R"({"type":"subscribe","id":"1","data":{"contract_id":1,"tick_type":"last"}})",
               "data.tick_type",
               "data.tick_type: \"last\" is not one of Last, AllLast, BidAsk, MidPoint");
  expect_error(
      R"({"type":"multi_subscribe","id":"1","data":{"contract_id":1,"tick_types":["Last","Trades"]}})",
      "data.tick_types[1]",
      "data.tick_types[1]: \"Trades\" is not one of Last, AllLast, BidAsk, MidPoint");
}

TEST(WsMessageValidator, TickTypesCountAndUniqueness) {
  expect_error(
      R"({"type":"multi_subscribe","id":"1","data":{"contract_id":1,"tick_types":["Last","BidAsk","Last"]}})",
      "data.tick_types", "data.tick_types: items must be unique, \"Last\" appears more than once");
  expect_error(R"({"type":"multi_subscribe","id":"1","data":{"contract_id":1,"tick_types":[)"
               R"("Last","AllLast","BidAsk","MidPoint","Last"]}})",
               "data.tick_types", "data.tick_types: must have at most 4 items, got 5");
  expect_error(R"({"type":"multi_subscribe","id":"1","data":{"contract_id":1,"tick_types":[]}})",
               "data.tick_types", "data.tick_types: must have at least 1 items, got 0");
}

TEST(WsMessageValidator, HugeArraysAndObjectsAreRefusedBeforeTheSchema) {
  // 20000 equal items: the schema alone would report each of the 2e8 equal
  // pairs (gigabytes, seconds); the value count refuses it at once.
  std::string items;
  for (int i = 0; i < 20000; ++i) items += i == 0 ? "1" : ",1";
  const auto e = error_of(R"({"type":"multi_subscribe","id":"big","data":{"contract_id":1,)"
                          R"("tick_types":[)" +
                          items + "]}}");
  EXPECT_EQ(e.path, "");
  EXPECT_EQ(e.message, "message has more than 64 JSON values: no client message has that many");
  EXPECT_EQ(e.id, "big");
  std::string members;
  for (int i = 0; i < 100; ++i) members += ",\"k" + std::to_string(i) + "\":" + std::to_string(i);
  EXPECT_EQ(error_of(R"({"type":"ping","id":"p")" + members + "}").path, "");
  // 60 values still reach the schema.
  std::string many;
  for (int i = 0; i < 56; ++i) many += i == 0 ? "\"Last\"" : ",\"Last\"";
  expect_error(R"({"type":"multi_subscribe","id":"1","data":{"contract_id":1,"tick_types":[)" +
                   many + "]}}",
               "data.tick_types", "data.tick_types: must have at most 4 items, got 56");
}

TEST(WsMessageValidator, ExtraProperties) {
  expect_error(R"({"type":"ping","id":"1","extra":true})", "extra",
               "extra: property is not allowed (allowed: type, id, timestamp)");
  expect_error(
      R"({"type":"subscribe","id":"1","data":{"contract_id":1,"tick_type":"Last","limit":5}})",
      "data.limit",
      "data.limit: property is not allowed (allowed: contract_id, tick_type, params)");
  expect_error(
      R"({"type":"subscribe","id":"1","data":{"contract_id":1,"tick_type":"Last","params":{"format":"sse"}}})",
      "data.params.format",
      "data.params.format: property is not allowed (allowed: limit, timeout, since)");
  expect_error(R"({"type":"get_stats","id":"1","data":{}})", "data",
               "data: property is not allowed (allowed: type, id)");
  expect_error(R"({"type":"unsubscribe_all","id":"1","data":{"request_id":"x"}})", "data",
               "data: property is not allowed (allowed: type, id)");
}

TEST(WsMessageValidator, ErrorCarriesAValidIdOnly) {
  EXPECT_EQ(
      error_of(R"({"type":"subscribe","id":"q9","data":{"contract_id":0,"tick_type":"Last"}})").id,
      "q9");
  EXPECT_FALSE(error_of(R"({"type":"ping","id":""})").id);
  EXPECT_FALSE(error_of(R"({"type":"ping","id":")" + std::string(200, 'x') + R"("})").id);
  EXPECT_FALSE(error_of(R"({"type":"ping","id":5})").id);
}

TEST(WsMessageValidator, LongClientValuesAreShortenedInMessages) {
  const auto e = error_of(R"({"type":"subscribe","id":"1","data":{"contract_id":1,"tick_type":")" +
                          std::string(5000, 'Z') + R"("}})");
  EXPECT_EQ(e.path, "data.tick_type");
  EXPECT_LT(e.message.size(), 200u) << e.message;
  EXPECT_NE(e.message.find("...\" is not one of"), std::string::npos) << e.message;
}

TEST(WsMessageValidator, ConcurrentUseIsSafe) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto r = validator().validate(
            R"({"type":"multi_subscribe","id":"1","data":{"contract_id":1,"tick_types":["Last","BidAsk"]}})");
        auto bad = validator().validate(R"({"type":"ping","id":"1","x":1})");
        if (std::holds_alternative<ws::ClientMessage>(r) &&
            std::holds_alternative<ws::ValidationError>(bad))
          ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 800);
}

TEST(WsSchemaDocument, MapsEveryTypeToItsSchema) {
  const auto doc = boost::json::parse(ws::schemas_document()).as_object();
  ASSERT_EQ(doc.size(), 7u);
  for (const auto& type : validator().message_types()) {
    SCOPED_TRACE(type);
    const auto& schema = doc.at(type).as_object();
    EXPECT_EQ(schema.at("$schema"), "http://json-schema.org/draft-07/schema#");
    EXPECT_EQ(schema.at("properties").at_pointer("/type/const"), boost::json::value(type));
    EXPECT_EQ(schema.at("additionalProperties"), false);
  }
  EXPECT_EQ(doc.at("subscribe").at_pointer("/properties/data/properties/contract_id/maximum"),
            2147483647);
  EXPECT_EQ(ws::schemas_document().find('\n'), std::string::npos);
}

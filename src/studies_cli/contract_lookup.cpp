#include "studies_cli/contract_lookup.hpp"

#include "studies_cli/http_get.hpp"
#include "studies_cli/options.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <climits>
#include <cstdio>

namespace studies_cli {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

/// The server may ask TWS (paced, one symbol search a second) before it answers.
constexpr auto kAnswerTimeout = 30s;

std::string text_of(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (!v) return {};
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_int64()) return std::to_string(v->get_int64());
  return {};
}

/// "MNQH7 20270319" (local symbol, else the symbol; the expiry when there is one).
std::string describe(const json::object& c) {
  std::string out = text_of(c, "local_symbol");
  if (out.empty()) out = text_of(c, "symbol");
  const std::string expiry = text_of(c, "expiry");
  std::string exchange = text_of(c, "primary_exchange");
  if (exchange.empty()) exchange = text_of(c, "exchange");
  if (!expiry.empty()) out += " " + expiry;
  else if (!exchange.empty()) out += " " + exchange;
  return out;
}

/// The candidates of an AMBIGUOUS_CONTRACT, one a line: "  ID  LOCAL_SYMBOL  EXPIRY".
std::string candidate_lines(const json::object& error) {
  std::string out;
  const auto* list = error.if_contains("candidates");
  if (!list || !list->is_array()) return out;
  for (const auto& v : list->get_array()) {
    if (!v.is_object()) continue;
    const auto& c = v.get_object();
    std::string local = text_of(c, "local_symbol");
    if (local.empty()) local = text_of(c, "symbol");
    char line[160];
    std::snprintf(line, sizeof line, "\n  %-10s  %-12s  %s", text_of(c, "contract_id").c_str(),
                  local.c_str(), text_of(c, "expiry").c_str());
    out += line;
    while (!out.empty() && out.back() == ' ') out.pop_back();
  }
  return out;
}

ContractLookup failed(std::string message) {
  return ContractLookup{0, {}, kExitCannotConnect, std::move(message)};
}

} // namespace

std::string contract_lookup_target(const ServerAddress& server, const std::string& spec) {
  return server.prefix + "/contracts/" + boost::urls::encode(spec, boost::urls::unreserved_chars);
}

ContractLookup contract_lookup_answer(const std::string& spec, unsigned status,
                                      const std::string& body) {
  const std::string what = "--contract " + spec;
  boost::system::error_code ec;
  const json::value v = json::parse(body, ec);
  const json::object* root = !ec && v.is_object() ? &v.get_object() : nullptr;
  if (status == 200) {
    const auto* id = root ? root->if_contains("contract_id") : nullptr;
    if (!id || !id->is_int64() || id->get_int64() <= 0 || id->get_int64() > INT_MAX)
      return failed("the server's answer for " + what +
                    " has no contract_id: " + body.substr(0, 200));
    return ContractLookup{static_cast<int>(id->get_int64()), describe(*root), 0, {}};
  }
  const json::object* error = nullptr;
  if (root)
    if (const auto* e = root->if_contains("error"); e && e->is_object()) error = &e->get_object();
  const std::string code = error ? text_of(*error, "code") : std::string();
  const std::string message = api_error_message(body);
  const std::string details = error ? text_of(*error, "details") : std::string();
  if (status == 404 && code == "CONTRACT_NOT_FOUND")
    return failed("no contract matches " + what + " (" + message + ")" +
                  (details.empty() ? "" : ". " + details));
  if (status == 400 && code == "AMBIGUOUS_CONTRACT") {
    std::string lines = candidate_lines(*error);
    if (lines.empty()) lines = "\n  " + details;
    return failed(what + " matches several contracts (" + message +
                  "); give one's id, or a longer spec (exchange, currency, expiry):" + lines);
  }
  const std::string why = "HTTP " + std::to_string(status) + " " + message;
  if (status == 401 || status == 403)
    return failed("the server refused the lookup of " + what + ": " + why +
                  "\nPass the server's key with --api-key (or IB_STREAM_API_KEY).");
  if (status == 400 || status == 404)
    return failed("the server refused the lookup of " + what + ": " + why);
  // 429, 503 (TWS_UNAVAILABLE), 5xx: the server is there but cannot answer now.
  return failed("the server cannot look up " + what + " now: " + why +
                " (try again later, or give the contract id)");
}

ContractLookup look_up_contract(const ServerAddress& server, const std::string& spec,
                                const std::string& api_key) {
  asio::io_context ioc(1);
  beast::tcp_stream stream(ioc);
  ContractLookup result;
  auto ask = [&]() -> asio::awaitable<void> {
    beast::flat_buffer buffer;
    GetResponseParser parser;
    const std::string failure = co_await open_get(
        stream, server,
        make_get(server, contract_lookup_target(server, spec), "application/json", api_key), buffer,
        parser, [] { return false; }, kAnswerTimeout);
    if (!failure.empty()) {
      result = failed("cannot connect to ib-stream-server at http://" + server.host_port +
                      " to look up --contract " + spec + ": " + failure +
                      "\nIs it running? Start it with ./run.sh (or ib-stream-server "
                      "--simulate), or pass --server URL.");
      co_return;
    }
    const unsigned status = parser.get().result_int();
    const std::string body = co_await read_body(stream, buffer, parser);
    result = contract_lookup_answer(spec, status, body);
  };
  asio::co_spawn(ioc, ask, asio::detached);
  ioc.run();
  return result;
}

} // namespace studies_cli

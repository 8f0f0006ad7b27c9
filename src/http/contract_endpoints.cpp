#include "http/contract_endpoints.hpp"

#include "contracts/contract_json.hpp"

#include <boost/asio/post.hpp>
#include <boost/url/parse_query.hpp>

#include <cctype>
#include <chrono>
#include <map>

namespace http {
namespace asio = boost::asio;

namespace {

Response json(int status, std::string body) {
  return Response{status, std::move(body), "application/json", {}};
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Answers on the connection's loop.
void answer_on(asio::any_io_executor ex, Answer done, Response r) {
  asio::post(ex, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
}

std::string upper(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

Response unavailable() {
  return error_response(503, "UNAVAILABLE", "Contract lookups are not available in this server");
}

/// The contract of a /contracts/{contract} path: an id or a spec, then its
/// details (cached or from TWS); `then(details, as_of)` on the service's
/// strand, or the error answered.
void with_details(std::shared_ptr<ServerState> state, std::string_view segment,
                  asio::any_io_executor ex, Answer done, bool refresh_if_unknown,
                  std::function<void(const tws::ContractDetails&, std::int64_t, Answer)> then) {
  if (!state->contracts) return done(unavailable());
  resolve_contract_segment(
      state, segment, ex,
      [state, ex, done = std::move(done), refresh_if_unknown,
       then = std::move(then)](int con_id, std::optional<contracts::LookupError> err) mutable {
        if (err) return done(lookup_error_response(*err));
        auto got = [state, ex, done, refresh_if_unknown, then,
                    con_id](contracts::ContractService::Error e, tws::ContractDetails d,
                            std::int64_t as_of) mutable {
          if (e) return answer_on(ex, std::move(done), lookup_error_response(*e));
          // The hours IB gave a while ago have run out: ask again once.
          if (refresh_if_unknown && contracts::hours_unknown_at(d, unix_now())) {
            state->contracts->details(
                con_id,
                [ex, done, then, d, as_of](contracts::ContractService::Error e2,
                                           tws::ContractDetails fresh,
                                           std::int64_t as_of2) mutable {
                  if (e2) then(d, as_of, std::move(done)); // the older answer is still an answer
                  else then(fresh, as_of2, std::move(done));
                },
                true);
            return;
          }
          then(d, as_of, std::move(done));
        };
        state->contracts->details(con_id, std::move(got));
      });
}

} // namespace

bool is_contract_spec(std::string_view segment) {
  if (segment.empty()) return false;
  for (char ch : segment)
    if (!std::isdigit(static_cast<unsigned char>(ch))) return true;
  return false;
}

Response lookup_error_response(const contracts::LookupError& e) {
  std::string extra;
  if (!e.candidates.empty()) extra = "\"candidates\":" + contracts::candidates_json(e.candidates);
  Response r{e.status, error_body(e.code, e.message, e.details, extra), "application/json", {}};
  if (e.retry_after_s > 0) r.headers.emplace_back("Retry-After", std::to_string(e.retry_after_s));
  return r;
}

void resolve_contract_segment(
    std::shared_ptr<ServerState> state, std::string_view segment, asio::any_io_executor ex,
    std::function<void(int, std::optional<contracts::LookupError>)> done) {
  std::string err;
  auto ref = contracts::parse_contract_ref(segment, err);
  if (!ref)
    return done(0, contracts::LookupError{
                       400,
                       "INVALID_PARAMETER",
                       "Invalid contract_id '" + std::string(segment) + "': " + err,
                       "A contract id (265598) or SYMBOL[:SEC_TYPE[:EXCHANGE[:CURRENCY[:EXPIRY]]]] "
                       "(AAPL, ES:FUT:CME:USD:202703)",
                       0,
                       {}});
  if (ref->is_id()) return done(ref->con_id, std::nullopt);
  if (!state->contracts)
    return done(
        0, contracts::LookupError{
               503, "UNAVAILABLE", "Contract lookups are not available in this server", "", 0, {}});
  state->contracts->resolve(
      *ref, [ex, done = std::move(done)](contracts::ContractService::Error e, int con_id) mutable {
        asio::post(ex, [done = std::move(done), con_id, e = std::move(e)]() mutable {
          done(con_id, std::move(e));
        });
      });
}

void answer_contract_search(std::shared_ptr<ServerState> state, std::string_view query,
                            asio::any_io_executor ex, Answer done) {
  if (!state->contracts) return done(unavailable());
  auto parsed = boost::urls::parse_query(query);
  if (!parsed) return done(error_response(400, "INVALID_PARAMETER", "Malformed query string"));
  static const std::map<std::string, int> known = {
      {"symbol", 0}, {"sec_type", 1}, {"exchange", 2}, {"currency", 3}, {"expiry", 4}, {"q", 5}};
  std::map<std::string, std::string> given;
  for (const auto& p : *parsed) {
    const std::string key = p.key.decode();
    if (!known.count(key)) continue; // unknown parameters are ignored (api.md)
    if (given.count(key))
      return done(error_response(400, "INVALID_PARAMETER",
                                 "Parameter '" + key + "' is repeated; give it once"));
    given[key] = p.has_value ? p.value.decode() : std::string();
  }
  const auto field = [&](const char* k) {
    auto it = given.find(k);
    return it == given.end() ? std::optional<std::string>() : std::optional(it->second);
  };
  const auto q = field("q");
  const auto symbol = field("symbol");
  if (q && symbol)
    return done(error_response(400, "INVALID_PARAMETER",
                               "Give either 'symbol' (exact, with sec_type, exchange, currency, "
                               "expiry) or 'q' (IB's fuzzy search), not both"));
  if (q) {
    if (q->empty() || q->size() > 64)
      return done(error_response(400, "INVALID_PARAMETER",
                                 "Parameter 'q' must be 1 to 64 characters (the start of a "
                                 "symbol or a word of a company name)"));
    for (const char* other : {"sec_type", "exchange", "currency", "expiry"})
      if (field(other))
        return done(error_response(400, "INVALID_PARAMETER",
                                   std::string("Parameter '") + other +
                                       "' goes with 'symbol', not with 'q'"));
    const std::string text = *q;
    state->contracts->matching_symbols(
        text, [ex, text, done = std::move(done)](contracts::ContractService::Error e,
                                                 std::vector<tws::ContractDescription> list,
                                                 std::int64_t as_of) mutable {
          answer_on(ex, std::move(done),
                    e ? lookup_error_response(*e)
                      : json(200, contracts::samples_json(text, list, as_of)));
        });
    return;
  }
  if (!symbol)
    return done(
        error_response(400, "INVALID_PARAMETER",
                       "Missing 'symbol' or 'q': e.g. ?symbol=ES&sec_type=FUT or ?q=apple"));
  // The fields go through the spec parser: one set of rules for both.
  std::string spec = *symbol;
  const char* parts[] = {"sec_type", "exchange", "currency", "expiry"};
  std::string tail;
  bool any = false;
  for (const char* p : parts) {
    const auto v = field(p);
    tail += ":" + v.value_or("");
    if (v) any = true;
  }
  if (any) spec += tail;
  if (symbol->find(':') != std::string::npos || spec.empty())
    return done(error_response(400, "INVALID_PARAMETER",
                               "Parameter 'symbol' must be a symbol such as ES or AAPL"));
  std::string err;
  auto ref = contracts::parse_contract_ref(spec, err);
  if (!ref || ref->is_id())
    return done(error_response(400, "INVALID_PARAMETER",
                               ref ? "Parameter 'symbol' must be a symbol, not a contract id "
                                     "(GET /contracts/" +
                                         spec + ")"
                                   : "Invalid search: " + err));
  // A search names only what it was given: no stock defaults.
  auto query_contract = ref->spec->query();
  query_contract.sec_type = upper(field("sec_type").value_or(""));
  query_contract.exchange = upper(field("exchange").value_or(""));
  query_contract.currency = upper(field("currency").value_or(""));
  state->contracts->search(query_contract, [ex, query_contract, done = std::move(done)](
                                               contracts::ContractService::Error e,
                                               std::vector<tws::ContractDetails> list,
                                               std::int64_t as_of) mutable {
    answer_on(ex, std::move(done),
              e ? lookup_error_response(*e)
                : json(200, contracts::search_json(query_contract, list, as_of)));
  });
}

void answer_contract_details(std::shared_ptr<ServerState> state, std::string_view segment,
                             asio::any_io_executor ex, Answer done) {
  with_details(state, segment, ex, std::move(done), true,
               [ex](const tws::ContractDetails& d, std::int64_t as_of, Answer done) {
                 answer_on(ex, std::move(done), json(200, contracts::details_json(d, as_of)));
               });
}

void answer_contract_status(std::shared_ptr<ServerState> state, std::string_view segment,
                            asio::any_io_executor ex, Answer done) {
  with_details(state, segment, ex, std::move(done), true,
               [ex](const tws::ContractDetails& d, std::int64_t as_of, Answer done) {
                 answer_on(ex, std::move(done),
                           json(200, contracts::status_json(d, unix_now(), as_of)));
               });
}

} // namespace http

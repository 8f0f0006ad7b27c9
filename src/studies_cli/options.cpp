#include "studies_cli/options.hpp"

#include "contracts/contract_spec.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <climits>
#include <exception>
#include <sstream>
#include <string>

namespace studies_cli {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

/// "bidask, last" -> {"BidAsk", "Last"}; throws CLI::ValidationError.
std::vector<std::string> parse_tick_types(const std::string& text) {
  static const char* const kNames[] = {"Last", "AllLast", "BidAsk", "MidPoint"};
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    std::string name;
    for (const char* n : kNames)
      if (lower(item) == lower(n)) name = n;
    if (name.empty())
      throw CLI::ValidationError("--tick-types",
                                 "'" + item +
                                     "' is not a tick type: use Last, AllLast, "
                                     "BidAsk (MidPoint is not used by the studies)");
    if (name == "MidPoint")
      throw CLI::ValidationError("--tick-types", "MidPoint is not used by the studies");
    if (std::find(out.begin(), out.end(), name) != out.end())
      throw CLI::ValidationError("--tick-types", name + " is given twice");
    out.push_back(name);
  }
  return out;
}

/// --contract: an id, or a spec resolved later (its canonical text kept).
void set_contract(StudiesOptions& o, const std::string& text) {
  std::string error;
  const auto ref = contracts::parse_contract_ref(text, error);
  if (!ref) throw CLI::ValidationError("--contract", error);
  if (ref->is_id()) o.contract_id = ref->con_id;
  else o.contract_spec = ref->text();
}

void add_common(CLI::App& sub, StudiesOptions& o, std::string& contract, std::string& tick_types,
                std::string& transport) {
  sub.add_option("--contract", contract,
                 "IB contract id (conId), e.g. 711280073, or a spec "
                 "SYMBOL[:SEC_TYPE[:EXCHANGE[:CURRENCY[:EXPIRY]]]] (AAPL, "
                 "MNQ:FUT:CME:USD:202703) that the server resolves to one id")
      ->type_name("ID|SPEC")
      ->required();
  sub.add_option("--server", o.server, "ib-stream-server base URL")->capture_default_str();
  sub.add_option("--transport", transport,
                 "sse (one SSE stream per tick type) or ws (one "
                 "WebSocket: subscribe, or multi_subscribe for several tick types)")
      ->check(CLI::IsMember({"sse", "ws"}))
      ->capture_default_str();
  sub.add_option("--tick-types", tick_types, "comma-separated tick types to consume");
  sub.add_option("--window", o.window_seconds, "rolling window, seconds of tick time")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  sub.add_flag("--json", o.json, "one JSON object per trade on stdout, nothing else");
  sub.add_option("--output", o.output, "also append each trade's JSON object to FILE (JSON Lines)");
  sub.add_option("--duration", o.duration, "stop after S seconds (wall clock)")
      ->check(CLI::Range(0.001, 1e9));
  sub.add_option("--limit", o.limit, "stop after N trades")->check(CLI::Range(1LL, LLONG_MAX));
  sub.add_option("--replay", o.replay,
                 "read recorded tick events (JSON Lines, api.md section 3) instead of a server");
  sub.add_option("--since", o.since,
                 "history then live: first the server's record from TIME (ISO-8601, Unix "
                 "seconds or ms) or that long ago (90s, 15m, 2h, 7d), then live")
      ->type_name("TIME");
  sub.add_option("--replay-from", o.replay_from,
                 "replay the server's record (GET /replay) from START: ISO-8601, a UTC day "
                 "(2026-12-04), Unix seconds or ms; with --replay-to")
      ->type_name("START");
  sub.add_option("--replay-to", o.replay_to, "end of --replay-from (exclusive; the same forms)")
      ->type_name("END");
  sub.add_option("--speed", o.speed,
                 "pace of --replay-from: max (default: as fast as it comes), 1 (the recorded "
                 "pace), 10, or any number from 0.01 to 100000")
      ->type_name("S");
  sub.add_option("--record", o.record, "append every tick event received to FILE (JSON Lines)");
  sub.add_option("--api-key", o.api_key,
                 "server API key (Authorization: Bearer over SSE, api_key over ws)")
      ->envname("IB_STREAM_API_KEY");
}

/// --since, --replay-from/--replay-to, --speed: what goes with what.
void check_history_options(StudiesOptions& o, const CLI::App& sub) {
  auto given = [&](const char* name) { return sub.count(name) > 0; };
  for (const char* name : {"--since", "--replay-from", "--replay-to", "--speed"})
    if (given(name) && sub.get_option(name)->as<std::string>().empty())
      throw CLI::ValidationError(name, "must not be empty");
  if (given("--replay-from") != given("--replay-to"))
    throw CLI::ValidationError(given("--replay-from") ? "--replay-from" : "--replay-to",
                               "give both --replay-from START and --replay-to END");
  if (given("--replay-from")) {
    if (!o.replay.empty())
      throw CLI::ValidationError("--replay-from", "not with --replay FILE (replay either the "
                                                  "server's record or a file)");
    if (!o.since.empty())
      throw CLI::ValidationError("--replay-from", "not with --since (--since continues live)");
    if (given("--duration"))
      throw CLI::ValidationError("--replay-from", "not with --duration (a replay ends at "
                                                  "--replay-to; use --limit)");
  }
  if (given("--since") && !o.replay.empty())
    throw CLI::ValidationError("--since", "not with --replay FILE");
  if (given("--speed")) {
    if (!given("--replay-from"))
      throw CLI::ValidationError("--speed", "only with --replay-from/--replay-to");
    if (lower(o.speed) == "max") {
      o.speed = "max";
    } else {
      double v = 0;
      std::size_t used = 0;
      try {
        v = std::stod(o.speed, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != o.speed.size() || !(v >= 0.01 && v <= 100000))
        throw CLI::ValidationError("--speed", "'" + o.speed +
                                                  "' is not a speed: max, or a number from "
                                                  "0.01 to 100000 (1 = the recorded pace)");
    }
  }
  if (o.speed.empty()) o.speed = "max";
}

} // namespace

std::string StudiesOptions::tick_types_text() const {
  std::string out;
  for (const auto& t : tick_types) out += (out.empty() ? "" : ",") + t;
  return out;
}

std::variant<StudiesOptions, int> parse_options(int argc, char** argv) {
  StudiesOptions o;
  CLI::App app{"ib-studies: order-flow delta studies over ib-stream-server (SSE or WebSocket), "
               "live or replayed"};
  app.set_version_flag("--version", "ib-studies 0.1.0");
  app.footer("Exit codes: 0 done, 1 cannot connect or the server refused the stream or the "
             "replay, or could not resolve the --contract spec (not found, ambiguous, TWS "
             "unavailable), 2 usage (also a malformed spec), 3 a --replay-from that ended "
             "without its `complete`.");
  app.require_subcommand(1);
  std::string tick_types_delta, tick_types_multi, transport_delta = "sse", transport_multi = "sse";
  std::string contract_delta, contract_multi;
  StudiesOptions od, om;
  auto* delta = app.add_subcommand("delta", "trades only, classified by the tick rule "
                                            "(uptick buy, downtick sell)");
  add_common(*delta, od, contract_delta, tick_types_delta, transport_delta);
  auto* multi = app.add_subcommand("multi-delta", "true delta: trades against the bid/ask "
                                                  "(BidAsk + Last or AllLast)");
  add_common(*multi, om, contract_multi, tick_types_multi, transport_multi);
  multi
      ->add_option("--neutral-zone", om.neutral_zone_pct,
                   "percent of the spread at each side counted as a hit (0 <= PCT < 50)")
      ->check(CLI::Range(0.0, 50.0));
  try {
    app.parse(argc, argv);
    const bool is_multi = multi->parsed();
    o = is_multi ? om : od;
    o.study = is_multi ? StudyKind::multi_delta : StudyKind::delta;
    set_contract(o, is_multi ? contract_multi : contract_delta);
    o.transport =
        (is_multi ? transport_multi : transport_delta) == "ws" ? Transport::ws : Transport::sse;
    std::string types = is_multi ? tick_types_multi : tick_types_delta;
    if (types.empty()) types = is_multi ? "BidAsk,Last" : "Last";
    o.tick_types = parse_tick_types(types);
    for (const auto& t : o.tick_types) {
      if (t == "BidAsk") o.quotes = true;
      else if (!o.trade_type.empty())
        throw CLI::ValidationError("--tick-types",
                                   "give one trade type, Last or AllLast (both would count "
                                   "every trade twice)");
      else o.trade_type = t;
    }
    if (o.trade_type.empty())
      throw CLI::ValidationError("--tick-types", "needs a trade type: Last or AllLast");
    if (!is_multi && o.quotes)
      throw CLI::ValidationError("--tick-types", "delta uses trades only: Last or AllLast "
                                                 "(multi-delta uses BidAsk)");
    if (is_multi && !o.quotes)
      throw CLI::ValidationError("--tick-types", "multi-delta needs BidAsk, e.g. BidAsk,Last");
    if (o.neutral_zone_pct >= 50.0)
      throw CLI::ValidationError("--neutral-zone", "must be below 50 (percent of the spread "
                                                   "at each side)");
    check_history_options(o, *(is_multi ? multi : delta));
    if (o.server.rfind("http://", 0) != 0)
      throw CLI::ValidationError("--server", "'" + o.server +
                                                 "' is not an http:// URL, e.g. "
                                                 "http://127.0.0.1:8000");
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(kExitUsage);
  }
  return o;
}

} // namespace studies_cli

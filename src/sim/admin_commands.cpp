#include "sim/admin_commands.hpp"

#include "sim/api_listener.hpp"
#include "sim/api_session.hpp"
#include "sim/sim_context.hpp"
#include "stream/tick_json.hpp"

#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>

namespace sim {
namespace {

constexpr const char* kHelp =
    "ok commands: status | drop [CLIENT_ID] | lost | restored lost|maintained | "
    "farm-down [FARM] | farm-up [FARM] | farm-flap [silent] [FARM] [MS] | "
    "silence CONID [10197] | unsilence CONID | refuse SECONDS | rate CONID EV_PER_S | "
    "hours CONID TRADING [LIQUID] | hours CONID reset | help";
constexpr int kDefaultFlapMs = 500;
constexpr double kMaxRate = 1e6;

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    const std::size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

template <typename T> std::optional<T> parse_number(std::string_view s) {
  T v{};
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

bool is_farm(std::string_view farm) {
  return std::find(kMarketDataFarms.begin(), kMarketDataFarms.end(), farm) !=
         kMarketDataFarms.end();
}

} // namespace

AdminCommands::AdminCommands(std::shared_ptr<SimContext> ctx, std::shared_ptr<ApiListener> listener)
    : ctx_(std::move(ctx)), listener_(std::move(listener)) {}

std::string AdminCommands::execute(std::string_view line) {
  const Args words = split_words(line);
  if (words.empty()) return "error empty command";
  const std::string_view cmd = words.front();
  const Args args(words.begin() + 1, words.end());
  std::string reply;
  if (cmd == "status") reply = status();
  else if (cmd == "drop") reply = drop(args);
  else if (cmd == "lost") reply = args.empty() ? lost() : "error usage: lost";
  else if (cmd == "restored") reply = restored(args);
  else if (cmd == "farm-down" || cmd == "farm-up") {
    const std::string_view farm = args.empty() ? std::string_view("usfarm") : args[0];
    if (args.size() > 1 || !is_farm(farm))
      reply = "error usage: " + std::string(cmd) + " [usfarm|usfuture|cashfarm]";
    else reply = cmd == "farm-down" ? farm_down(farm) : farm_up(farm);
  } else if (cmd == "farm-flap") reply = farm_flap(args);
  else if (cmd == "silence") reply = silence(args);
  else if (cmd == "unsilence") reply = unsilence(args);
  else if (cmd == "refuse") reply = refuse(args);
  else if (cmd == "rate") reply = rate(args);
  else if (cmd == "hours") reply = hours(args);
  else if (cmd == "help") reply = kHelp;
  else reply = "error unknown command '" + std::string(cmd) + "' (try help)";
  if (cmd != "status" && cmd != "help") spdlog::info("admin: {} -> {}", line, reply);
  return reply;
}

std::string AdminCommands::status() const {
  const auto now = std::chrono::steady_clock::now();
  std::string out = "ok {\"listening\":";
  out += listener_->listening() ? "true" : "false";
  out += ",\"clock\":";
  out += ctx_->config.clock == ClockMode::wall ? "\"wall\"" : "\"subscription\"";
  out += ",\"start_time\":" +
         (ctx_->config.start_time ? std::to_string(*ctx_->config.start_time) : "null");
  out += ",\"historical_pacing\":";
  out += ctx_->config.historical_pacing ? "true" : "false";
  out += ",\"hours\":";
  out += ctx_->hours.mode() == HoursMode::real ? "\"real\"" : "\"always\"";
  out += ",\"hours_overrides\":[";
  bool first_override = true;
  for (const auto& [con_id, o] : ctx_->hours.overrides()) {
    if (!first_override) out += ',';
    first_override = false;
    out += "{\"con_id\":" + std::to_string(con_id) + ",\"trading_hours\":";
    stream::append_json_string(out, o.trading_hours);
    out += ",\"liquid_hours\":";
    stream::append_json_string(out, o.liquid_hours);
    out += '}';
  }
  out += ']';
  out += ",\"port\":" + std::to_string(listener_->port()) + ",\"connections\":[";
  bool first = true;
  for (const auto& s : ctx_->sessions.all()) {
    if (!first) out += ',';
    first = false;
    out += "{\"conn\":" + std::to_string(s->serial()) +
           ",\"client_id\":" + (s->client_id() ? std::to_string(*s->client_id()) : "null") +
           ",\"peer\":";
    stream::append_json_string(out, s->peer());
    out += ",\"server_version\":" + std::to_string(s->server_version()) +
           ",\"pace_api\":" + (s->pace_api() ? "true" : "false") + "}";
  }
  out += "],\"held_client_ids\":[";
  first = true;
  for (int id : ctx_->sessions.held_ids(now)) {
    if (!first) out += ',';
    first = false;
    out += std::to_string(id);
  }
  out += "],\"lost\":";
  out += ctx_->faults.lost ? "true" : "false";
  out += ",\"farms_down\":[";
  first = true;
  for (const auto& farm : ctx_->faults.farms_down) {
    if (!first) out += ',';
    first = false;
    stream::append_json_string(out, farm);
  }
  out += "],\"silenced\":[";
  first = true;
  for (const auto& [con_id, announce] : ctx_->faults.silenced) {
    if (!first) out += ',';
    first = false;
    out += "{\"con_id\":" + std::to_string(con_id) +
           ",\"announce_10197\":" + (announce ? "true" : "false") + "}";
  }
  out += "],";
  ctx_->feed.append_status(out);
  out += '}';
  return out;
}

void AdminCommands::close_all(std::string_view why) {
  for (const auto& s : ctx_->sessions.all()) s->close(why);
}

std::string AdminCommands::drop(const Args& args) {
  if (args.size() > 1) return "error usage: drop [CLIENT_ID]";
  if (args.empty()) {
    const auto n = ctx_->sessions.size();
    close_all("admin drop");
    return "ok dropped " + std::to_string(n) + " connections";
  }
  const auto id = parse_number<int>(args[0]);
  if (!id) return "error usage: drop [CLIENT_ID]";
  int n = 0;
  for (const auto& s : ctx_->sessions.all()) {
    if (s->client_id() == *id) {
      s->close("admin drop");
      ++n;
    }
  }
  if (n == 0) return "error no connection with client id " + std::to_string(*id);
  return "ok dropped client " + std::to_string(*id);
}

std::string AdminCommands::lost() {
  ctx_->faults.lost = true;
  ctx_->sessions.broadcast_error(1100, kConnectivityLost);
  return "ok connectivity lost (1100); tick delivery stopped";
}

std::string AdminCommands::restored(const Args& args) {
  if (args.size() != 1 || (args[0] != "lost" && args[0] != "maintained"))
    return "error usage: restored lost|maintained";
  ctx_->faults.lost = false;
  if (args[0] == "maintained") {
    ctx_->sessions.broadcast_error(1102, kRestoredDataMaintained);
    return "ok restored, data maintained (1102)";
  }
  const auto forgotten = ctx_->feed.forget_all();
  ctx_->sessions.broadcast_error(1101, kRestoredDataLost);
  return "ok restored, data lost (1101); forgot " + std::to_string(forgotten.size()) +
         " subscriptions";
}

std::string AdminCommands::farm_down(std::string_view farm) {
  ctx_->faults.farms_down.insert(std::string(farm));
  ctx_->sessions.broadcast_error(2103, farm_broken_text(farm));
  return "ok " + std::string(farm) + " broken (2103)";
}

std::string AdminCommands::farm_up(std::string_view farm) {
  ctx_->faults.farms_down.erase(std::string(farm));
  ctx_->sessions.broadcast_error(2104, farm_ok_text(farm));
  return "ok " + std::string(farm) + " OK (2104)";
}

std::string AdminCommands::farm_flap(const Args& args) {
  bool silent = false;
  std::string farm = "usfarm";
  int delay_ms = kDefaultFlapMs;
  for (auto a : args) {
    if (a == "silent") silent = true;
    else if (is_farm(a)) farm = std::string(a);
    else if (auto ms = parse_number<int>(a); ms && *ms >= 0) delay_ms = *ms;
    else return "error usage: farm-flap [silent] [usfarm|usfuture|cashfarm] [MS]";
  }
  std::size_t forgotten = 0;
  if (silent) forgotten = ctx_->feed.forget_all().size();
  farm_down(farm);
  auto timer = std::make_shared<boost::asio::steady_timer>(ctx_->strand);
  timer->expires_after(std::chrono::milliseconds(delay_ms));
  timer->async_wait([self = shared_from_this(), timer, farm](boost::system::error_code ec) {
    if (!ec) self->farm_up(farm);
  });
  std::string reply =
      "ok " + farm + " flapping: 2103 now, 2104 in " + std::to_string(delay_ms) + " ms";
  if (silent) reply += "; silently forgot " + std::to_string(forgotten) + " subscriptions";
  return reply;
}

std::string AdminCommands::silence(const Args& args) {
  const auto con_id = args.empty() ? std::nullopt : parse_number<int>(args[0]);
  if (!con_id || args.size() > 2 || (args.size() == 2 && args[1] != "10197"))
    return "error usage: silence CONID [10197]";
  if (ctx_->catalog.find(*con_id) == nullptr)
    return "error unknown contract " + std::to_string(*con_id);
  const bool announce = args.size() == 2;
  ctx_->faults.silenced[*con_id] = announce;
  std::size_t n = 0;
  for (const auto& sub : ctx_->feed.subscriptions_of(*con_id)) {
    ++n;
    if (!announce) continue;
    if (auto s = sub.session.lock()) s->send_error(sub.req_id, 10197, kCompetingSession);
  }
  return "ok " + std::to_string(*con_id) + " silenced (" + std::to_string(n) + " subscriptions" +
         (announce ? ", 10197 sent)" : ")");
}

std::string AdminCommands::unsilence(const Args& args) {
  const auto con_id = args.size() == 1 ? parse_number<int>(args[0]) : std::nullopt;
  if (!con_id) return "error usage: unsilence CONID";
  if (ctx_->faults.silenced.erase(*con_id) == 0)
    return "error " + std::to_string(*con_id) + " is not silenced";
  return "ok " + std::to_string(*con_id) + " unsilenced";
}

std::string AdminCommands::refuse(const Args& args) {
  const auto seconds = args.size() == 1 ? parse_number<double>(args[0]) : std::nullopt;
  if (!seconds || !std::isfinite(*seconds) || *seconds < 0 || *seconds > 86400)
    return "error usage: refuse SECONDS";
  const auto delay = std::chrono::milliseconds(static_cast<std::int64_t>(*seconds * 1000));
  listener_->reopen_after(delay);
  const auto n = ctx_->sessions.size();
  close_all("admin refuse (gateway restart)");
  return "ok port " + std::to_string(listener_->port()) + " closed (" + std::to_string(n) +
         " connections dropped), reopening in " + std::to_string(delay.count()) + " ms";
}

std::string AdminCommands::rate(const Args& args) {
  const auto con_id = args.size() == 2 ? parse_number<int>(args[0]) : std::nullopt;
  const auto value = args.size() == 2 ? parse_number<double>(args[1]) : std::nullopt;
  if (!con_id || !value || !std::isfinite(*value) || *value <= 0 || *value > kMaxRate)
    return "error usage: rate CONID EV_PER_S (0 < EV_PER_S <= 1e6)";
  if (ctx_->catalog.find(*con_id) == nullptr)
    return "error unknown contract " + std::to_string(*con_id);
  ctx_->feed.set_rate(*con_id, *value);
  return "ok " + std::to_string(*con_id) + " at " + tws::format_number(*value) + " events/s";
}

std::string AdminCommands::hours(const Args& args) {
  const auto con_id =
      args.size() == 2 || args.size() == 3 ? parse_number<int>(args[0]) : std::nullopt;
  if (!con_id) return "error usage: hours CONID TRADING [LIQUID] | hours CONID reset";
  const CatalogEntry* entry = ctx_->catalog.find(*con_id);
  if (entry == nullptr) return "error unknown contract " + std::to_string(*con_id);
  if (args[1] == "reset") {
    if (args.size() != 2) return "error usage: hours CONID reset";
    if (!ctx_->hours.reset(*con_id))
      return "error " + std::to_string(*con_id) + " has no hours override";
    return "ok " + std::to_string(*con_id) + " hours reset";
  }
  const std::string liquid = args.size() == 3 ? std::string(args[2]) : std::string();
  if (auto why = ctx_->hours.set_override(*entry, std::string(args[1]), liquid); !why.empty())
    return "error bad hours for " + std::to_string(*con_id) + ": " + why;
  return "ok " + std::to_string(*con_id) + " hours set (" + entry->details.time_zone_id +
         (ctx_->hours.mode() == HoursMode::real ? ", ticks follow them)" : ", --hours always)");
}

} // namespace sim

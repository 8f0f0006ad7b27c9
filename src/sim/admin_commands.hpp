// The fault-injection and control language of ib-tws-sim, spoken on the
// admin port (--admin-port, a line-based TCP text protocol on 127.0.0.1) and
// through Simulator::command().
//
// One command per line; words separated by spaces; one reply line per
// command: "ok[ <details>]" or "error <reason>".
//
//   status                     ok {JSON}: listening, clock, start_time,
//                              historical_pacing, hours (always|real),
//                              hours_overrides (con_id, trading_hours,
//                              liquid_hours), port, connections
//                              (conn, client_id, peer, server_version,
//                              pace_api), held_client_ids, lost, farms_down,
//                              silenced, subscriptions (conn, client_id,
//                              con_id, tick_type, req_id, served), markets
//                              (con_id, symbol, rate, events, subscribers,
//                              delivering), served_ticks
//   drop [CLIENT_ID]           close every API connection (or only that
//                              client's) at once, without a word; the
//                              client ids stay held for --client-id-hold s
//   lost                       ERR_MSG -1 1100 "Connectivity between IB and
//                              Trader Workstation has been lost." to every
//                              client; tick delivery stops (sockets stay up)
//   restored lost              1101 "... restored - data lost.": delivery
//                              resumes but every tick-by-tick subscription
//                              is forgotten (clients must resubscribe)
//   restored maintained        1102 "... restored - data maintained.":
//                              delivery resumes for every subscription
//   farm-down [FARM]           2103 "Market data farm connection is
//                              broken:FARM" (default usfarm); ticks of the
//                              contracts that farm serves stop
//   farm-up [FARM]             2104 "Market data farm connection is
//                              OK:FARM"; their ticks resume
//   farm-flap [silent] [FARM] [MS]
//                              farm-down now, farm-up after MS ms (default
//                              500). silent: in addition every live
//                              subscription (all farms) silently stops and
//                              is forgotten server-side
//   silence CONID [10197]      subscriptions of CONID, existing and new, are
//                              accepted but get no ticks; with 10197 each
//                              also gets ERR_MSG(reqId, 10197, "No market
//                              data during competing live session")
//   unsilence CONID            ticks of CONID flow again
//   refuse SECONDS             close the API port and every connection;
//                              reopen the port after SECONDS (the daily
//                              gateway restart); held client ids are
//                              forgotten at the reopen
//   rate CONID EV_PER_S        market events per second of CONID from now on
//   hours CONID TRADING [LIQUID]
//                              CONID's contract details report these hours
//                              strings (IB's format, local to its
//                              timeZoneId; LIQUID defaults to TRADING) and
//                              --hours real follows TRADING
//   hours CONID reset          back to the catalog's hours
//   help                       the command list
//
// FARM is usfarm (stocks), usfuture (futures) or cashfarm (forex).
//
// Thread-safety: execute() runs on the simulator's strand only.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sim {

struct SimContext;
class ApiListener;

class AdminCommands : public std::enable_shared_from_this<AdminCommands> {
public:
  AdminCommands(std::shared_ptr<SimContext> ctx, std::shared_ptr<ApiListener> listener);

  /// Runs one command line; returns the one-line reply (no newline).
  std::string execute(std::string_view line);

private:
  using Args = std::vector<std::string_view>;

  std::string status() const;
  std::string drop(const Args& args);
  std::string lost();
  std::string restored(const Args& args);
  std::string farm_down(std::string_view farm);
  std::string farm_up(std::string_view farm);
  std::string farm_flap(const Args& args);
  std::string silence(const Args& args);
  std::string unsilence(const Args& args);
  std::string refuse(const Args& args);
  std::string rate(const Args& args);
  std::string hours(const Args& args);
  void close_all(std::string_view why);

  std::shared_ptr<SimContext> ctx_;
  std::shared_ptr<ApiListener> listener_;
};

} // namespace sim

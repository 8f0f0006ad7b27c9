#include "http/tracked_endpoints.hpp"

#include "http/stream_params.hpp"
#include "record/tracked.hpp"
#include "stream/json_writer.hpp"
#include "stream/tick_json.hpp"

#include <boost/asio/post.hpp>
#include <boost/url/parse_query.hpp>

#include <map>

namespace http {
namespace asio = boost::asio;
using stream::JsonWriter;

namespace {

void write_gap(JsonWriter& w, const store::Gap& g) {
  w.begin_object()
      .member("after_seq", g.after_seq)
      .member("from", stream::format_iso_ms(g.from_time * 1000))
      .member("from_unix", g.from_time)
      .member("to", g.to_time ? stream::format_iso_ms(g.to_time * 1000) : std::string())
      .member("to_unix", g.to_time)
      .member("state", store::to_string(g.state))
      .member("filled_ticks", g.filled_ticks)
      .member("reason", g.reason)
      .member("detail", g.detail)
      .end_object();
}

std::string tracked_json(const std::vector<record::TrackedStatus>& list,
                         const stream::HubSnapshot* snap, const record::RecorderHealth& health,
                         const ServerConfig& config) {
  std::map<std::pair<int, std::string>, const stream::HubSnapshot::Upstream*> upstream;
  if (snap)
    for (const auto& u : snap->upstreams) upstream[{u.con_id, u.tick_type}] = &u;
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("tracked").begin_array();
  for (const auto& t : list) {
    const std::string type(tws::to_string(t.tick_type));
    std::string state = t.state;
    if (t.state == "recording")
      if (auto it = upstream.find({t.con_id, type}); it != upstream.end())
        state = it->second->state; // live, stale, disconnected, closed (market hours)
    std::size_t open = 0, filled = 0, partial = 0, unfillable = 0;
    for (const auto& g : t.gaps) {
      switch (g.state) {
      case store::Gap::State::open:
      case store::Gap::State::filling: ++open; break;
      case store::Gap::State::filled: ++filled; break;
      case store::Gap::State::partial: ++partial; break;
      case store::Gap::State::unfillable: ++unfillable; break;
      }
    }
    w.begin_object()
        .member("contract_id", t.con_id)
        .member("tick_type", type)
        .member("stream_id", std::to_string(t.con_id) + ":" + type)
        .member("state", state);
    if (!t.error.empty()) w.member("error", t.error);
    w.member("ticks_recorded", t.ticks_recorded)
        .member("ticks_backfilled", t.backfilled)
        .member("last_tick_time",
                t.last_tick_time ? stream::format_iso_ms(t.last_tick_time * 1000) : std::string())
        .member("last_tick_unix", t.last_tick_time)
        .key("recorder_lag")
        .begin_object()
        .member("ticks", t.lag_ticks)
        .member("seconds", t.lag_seconds)
        .end_object()
        .key("gaps")
        .begin_object()
        .member("open", open)
        .member("filled", filled)
        .member("partial", partial)
        .member("unfillable", unfillable)
        .key("list")
        .begin_array();
    for (const auto& g : t.gaps) write_gap(w, g);
    w.end_array().end_object().end_object();
  }
  w.end_array()
      .key("recorder")
      .begin_object()
      .member("status", health.degraded ? "degraded" : "ok")
      .member("message",
              health.degraded ? std::string_view(health.message) : std::string_view("recording"))
      .member("pending_ticks", health.pending_rows)
      .member("data_dir", config.data_dir)
      .member("track", record::format_track_spec(config.track))
      .end_object()
      .member("timestamp", stream::iso_now())
      .end_object();
  w.flush();
  return out;
}

Response json(int status, std::string body) {
  return Response{status, std::move(body), "application/json", {}};
}

/// Runs `then` on `ex` with the recorder's status and a Hub snapshot.
void with_status(
    const std::shared_ptr<ServerState>& state, asio::any_io_executor ex,
    std::function<void(std::vector<record::TrackedStatus>, stream::HubSnapshot)> then) {
  state->recorder->status(
      [state, ex, then = std::move(then)](std::vector<record::TrackedStatus> list) mutable {
        state->hub->snapshot(
            [ex, then = std::move(then), list = std::move(list)](stream::HubSnapshot snap) mutable {
              asio::post(ex, [then = std::move(then), list = std::move(list),
                              snap = std::move(snap)]() mutable { then(std::move(list), snap); });
            });
      });
}

} // namespace

void answer_tracked(std::shared_ptr<ServerState> state, asio::any_io_executor ex, Answer done) {
  with_status(state, ex,
              [state, done = std::move(done)](std::vector<record::TrackedStatus> list,
                                              const stream::HubSnapshot& snap) {
                done(
                    json(200, tracked_json(list, &snap, state->recorder->health(), state->config)));
              });
}

namespace {

Response edge_records_nothing() {
  return error_response(400, "INVALID_PARAMETER",
                        "This server is a scale-out edge, which records nothing",
                        "Track or untrack the contract on the publisher (the node with --role "
                        "publisher): /tracked/{contract_id} there");
}

} // namespace

void answer_track(std::shared_ptr<ServerState> state, std::string_view contract_segment,
                  std::string_view query, asio::any_io_executor ex, Answer done) {
  if (is_edge(state->config)) return done(edge_records_nothing());
  const auto con_id = parse_contract_id(contract_segment);
  if (!con_id)
    return done(error_response(400, "INVALID_PARAMETER",
                               "Invalid contract_id '" + std::string(contract_segment) +
                                   "': must be a positive integer up to 2147483647 (an IB conId)"));
  std::optional<std::string> types_text;
  auto parsed = boost::urls::parse_query(query);
  if (!parsed) return done(error_response(400, "INVALID_PARAMETER", "Malformed query string"));
  for (const auto& p : *parsed) {
    if (p.key.decode() != "tick_types") continue;
    if (types_text)
      return done(error_response(400, "INVALID_PARAMETER",
                                 "Parameter 'tick_types' is repeated; give it once"));
    types_text = p.has_value ? p.value.decode() : std::string();
  }
  if (!types_text)
    return done(error_response(400, "INVALID_PARAMETER",
                               "Missing tick_types: e.g. ?tick_types=BidAsk,Last (Last, AllLast, "
                               "BidAsk, MidPoint)"));
  std::string err;
  auto types = record::parse_tick_type_list(*types_text, err);
  if (!types) return done(error_response(400, "INVALID_PARAMETER", "Invalid tick_types: " + err));
  state->recorder->track(
      *con_id, *types,
      [state, ex, done = std::move(done)](std::optional<stream::OpenError> e,
                                          std::vector<record::TrackedStatus> now) mutable {
        if (e) {
          Response r = error_response(e->status, e->code, e->message, e->details);
          if (e->retry_after_s > 0)
            r.headers.emplace_back("Retry-After", std::to_string(e->retry_after_s));
          asio::post(ex, [done = std::move(done), r = std::move(r)]() mutable { done(r); });
          return;
        }
        auto body = tracked_json(now, nullptr, state->recorder->health(), state->config);
        asio::post(ex, [done = std::move(done), body = std::move(body)]() mutable {
          done(json(201, std::move(body)));
        });
      });
}

void answer_untrack(std::shared_ptr<ServerState> state, std::string_view contract_segment,
                    asio::any_io_executor ex, Answer done) {
  if (is_edge(state->config)) return done(edge_records_nothing());
  const auto con_id = parse_contract_id(contract_segment);
  if (!con_id)
    return done(error_response(400, "INVALID_PARAMETER",
                               "Invalid contract_id '" + std::string(contract_segment) +
                                   "': must be a positive integer up to 2147483647 (an IB conId)"));
  const int id = *con_id;
  state->recorder->untrack(
      id, [ex, id, done = std::move(done)](bool found, std::string save_error) mutable {
        Response r;
        if (!found) {
          r = error_response(404, "NOT_FOUND", "Contract " + std::to_string(id) + " is not tracked",
                             "GET /tracked lists the tracked streams");
        } else {
          std::string body;
          JsonWriter w(body);
          w.begin_object()
              .member("contract_id", id)
              .member("tracked", false)
              .member("saved", save_error.empty());
          if (!save_error.empty()) w.member("save_error", save_error);
          w.member("timestamp", stream::iso_now()).end_object();
          w.flush(); // into `body` now, before it moves
          r = json(200, std::move(body));
        }
        asio::post(ex, [done = std::move(done), r = std::move(r)]() mutable { done(r); });
      });
}

} // namespace http

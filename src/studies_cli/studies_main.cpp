#include "studies_cli/studies_main.hpp"

#include "studies_cli/contract_lookup.hpp"
#include "studies_cli/options.hpp"
#include "studies_cli/resume_point.hpp"
#include "studies_cli/server_replay.hpp"
#include "studies_cli/sse_source.hpp"
#include "studies_cli/study_runner.hpp"
#include "studies_cli/ws_source.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>

namespace studies_cli {
namespace asio = boost::asio;

namespace {

/// How long after a tick the held ticks are applied (same_time_order.hpp):
/// enough for a tick written at the same instant on the other SSE connection.
constexpr int kFlushDelayMs = 20;

/// Replays a recording: every line an api.md §3 event; ticks are fed in file
/// order, everything else is skipped. Deterministic: no clock is read.
int run_replay(const StudiesOptions& o, StudyRunner& runner) {
  std::ifstream in(o.replay);
  if (!in) {
    std::fprintf(stderr, "error: cannot read %s\n", o.replay.c_str());
    return kExitUsage;
  }
  runner.start();
  std::string line;
  long long line_no = 0, bad = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    studies::StreamEvent ev;
    std::string error;
    if (!studies::parse_stream_event(line, ev, error)) {
      if (++bad <= 10)
        std::fprintf(stderr, "warning: %s:%lld: %s\n", o.replay.c_str(), line_no, error.c_str());
      continue;
    }
    if (ev.type != "tick") continue;
    if (!runner.on_tick(ev, line)) break;
  }
  runner.flush();
  if (bad > 10) std::fprintf(stderr, "warning: %lld unreadable lines skipped\n", bad);
  runner.finish();
  return kExitOk;
}

/// Unix milliseconds now, as the server's time parameters take them.
std::string unix_ms_now() {
  using namespace std::chrono;
  return std::to_string(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

/// --since as /replay's range up to `end`: a duration before now ("15m")
/// is the replay's `duration`, anything else its `start`.
ReplayRange since_range(const std::string& since, std::string end) {
  ReplayRange r;
  if (!since.empty() && std::string_view("smhd").find(since.back()) != std::string_view::npos)
    r.duration = since;
  else r.start = since;
  r.end = std::move(end);
  r.speed = "max";
  return r;
}

/// Live (SSE or WebSocket; with --since the record through /replay first),
/// or the server's record (--replay-from): sources on one io_context until
/// the limit, the duration, the end of the replay, Ctrl+C or a fatal error.
int run_server(const StudiesOptions& o, StudyRunner& runner) {
  ServerAddress server;
  std::string error;
  if (!ServerAddress::parse(o.server, server, error)) {
    std::fprintf(stderr, "error: --server: %s\n", error.c_str());
    return kExitUsage;
  }
  asio::io_context ioc(1);
  std::vector<std::shared_ptr<LiveSource>> sources; // every one started
  std::size_t live_sources = 0;                     // of them: SSE / WebSocket
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  asio::steady_timer duration_timer(ioc), summary_timer(ioc), flush_timer(ioc);
  bool flush_armed = false;
  int exit_code = kExitOk;
  bool stopping = false, failed = false;
  std::size_t ended = 0;

  auto stop_all = [&] {
    if (stopping) return;
    stopping = true;
    for (auto& s : sources) s->stop();
    signals.cancel();
    duration_timer.cancel();
    summary_timer.cancel();
    flush_timer.cancel();
  };

  SourceEvents ev;
  auto limit_reached = [&] {
    if (!o.json) std::printf("Reached the limit of %lld trades\n", o.limit);
    stop_all();
  };
  // Ticks of one server timestamp are applied together (trades first) once
  // nothing more came for a moment: the other stream's tick of the same
  // instant may still be on its way.
  ev.tick = [&](const studies::StreamEvent& e, std::string_view record_line) {
    if (stopping) return;
    if (!runner.on_tick(e, record_line)) return limit_reached();
    // The replay is one stream that the server interleaved in time order
    // (its send times say nothing): applied as it comes.
    if (o.server_replay() && !runner.flush()) return limit_reached();
    if (flush_armed) return;
    flush_armed = true;
    flush_timer.expires_after(std::chrono::milliseconds(kFlushDelayMs));
    flush_timer.async_wait([&](boost::system::error_code ec) {
      flush_armed = false;
      if (ec || stopping) return;
      if (!runner.flush()) limit_reached();
    });
  };
  ev.min_tick = [&](double t) { runner.set_min_tick(t); };
  ev.fatal = [&](int code, const std::string& message) {
    if (stopping) return;
    std::fprintf(stderr, "error: %s\n", message.c_str());
    exit_code = code;
    failed = runner.trades() == 0;
    stop_all();
  };
  ev.ended = [&] {
    if (++ended == live_sources) stop_all();
  };

  // The live sources; each tick type begins from its LiveStart.
  auto start_live = [&](const ResumePoints* resume) {
    if (stopping) return;
    std::map<std::string, LiveStart> starts;
    for (const auto& t : o.tick_types) {
      LiveStart& s = starts[t];
      s.since = o.since;
      if (const ResumePoint* p = resume ? resume->find(t) : nullptr) s.after = *p;
    }
    std::vector<std::shared_ptr<LiveSource>> live;
    if (o.transport == Transport::ws) {
      live.push_back(std::make_shared<WsSource>(ioc.get_executor(), server, o.contract_id,
                                                o.tick_types, o.api_key, starts, ev));
    } else {
      // Quotes first: their stream is asked for (and usually answers) before
      // the trades', so fewer early trades lack a quote.
      for (const auto& t : o.tick_types)
        live.push_back(std::make_shared<SseSource>(ioc.get_executor(), server, o.contract_id, t,
                                                   o.api_key, starts[t], ev));
    }
    live_sources = live.size();
    for (auto& s : live) {
      sources.push_back(s);
      s->start();
    }
  };

  // --since: the record from then to now first, through /replay: every
  // tick type in one stream in time order, so multi-delta matches each
  // trade with the quote of its time (separate streams per type would
  // each come in their own order). Each tick is applied as it comes and
  // noted in `resume`; at the end each type goes live right after its
  // last tick applied.
  ResumePoints resume;
  SourceEvents history_ev = ev;
  history_ev.tick = [&](const studies::StreamEvent& e, std::string_view record_line) {
    if (stopping) return;
    if (const auto* data = e.json.if_contains("data"); data && data->is_object())
      resume.note(data->get_object());
    if (!runner.on_tick(e, record_line) || !runner.flush()) return limit_reached();
  };
  history_ev.ended = [&] { start_live(&resume); };

  if (o.server_replay()) {
    live_sources = 1; // its end is the end
    sources.push_back(std::make_shared<ServerReplay>(
        ioc.get_executor(), server, o.contract_id, o.tick_types,
        ReplayRange{o.replay_from, "", o.replay_to, o.speed}, o.api_key, ev));
  } else if (!o.since.empty()) {
    // The replay ends now; the live streams' resume covers what comes after.
    auto history =
        std::make_shared<ServerReplay>(ioc.get_executor(), server, o.contract_id, o.tick_types,
                                       since_range(o.since, unix_ms_now()), o.api_key, history_ev);
    history->describe_as("the record of --since " + o.since);
    history->on_not_recorded([&](const std::string& message) {
      notice("nothing recorded to read first (" + message + "): live, since " + o.since);
      start_live(nullptr);
    });
    sources.push_back(history);
  }

  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    std::fprintf(stderr, "ib-studies: interrupted (signal %d) after %lld trades\n", sig,
                 runner.trades());
    stop_all();
  });
  if (o.duration > 0) {
    duration_timer.expires_after(
        std::chrono::milliseconds(static_cast<long long>(o.duration * 1000)));
    duration_timer.async_wait([&](boost::system::error_code ec) {
      if (!ec) stop_all();
    });
  }
  // Human output: a summary every 10 s of wall clock as well (quiet markets).
  std::function<void()> arm_summary = [&] {
    summary_timer.expires_after(std::chrono::seconds(10));
    summary_timer.async_wait([&](boost::system::error_code ec) {
      if (ec || stopping) return;
      runner.periodic_summary();
      arm_summary();
    });
  };
  if (!o.json) arm_summary();

  runner.start();
  if (sources.empty()) start_live(nullptr);
  else sources.front()->start();
  ioc.run();
  if (!failed) {
    runner.flush();
    runner.finish();
  }
  return exit_code;
}

/// --contract SPEC: the server's one contract for it into o.contract_id
/// (one notice naming it); else the error printed and its exit code.
int resolve_contract(StudiesOptions& o) {
  ServerAddress server;
  std::string error;
  if (!ServerAddress::parse(o.server, server, error)) {
    std::fprintf(stderr, "error: --server: %s\n", error.c_str());
    return kExitUsage;
  }
  const ContractLookup found = look_up_contract(server, o.contract_spec, o.api_key);
  if (found.contract_id == 0) {
    std::fprintf(stderr, "error: %s\n", found.error.c_str());
    return found.exit_code;
  }
  o.contract_id = found.contract_id;
  notice("--contract " + o.contract_spec + " is contract " + std::to_string(o.contract_id) +
         (found.summary.empty() ? "" : " (" + found.summary + ")"));
  return kExitOk;
}

} // namespace

int main(int argc, char** argv) {
  auto parsed = parse_options(argc, argv);
  if (auto* code = std::get_if<int>(&parsed)) return *code;
  auto& o = std::get<StudiesOptions>(parsed);
  // A reader that goes away (| head) must not kill us before the summary.
  std::signal(SIGPIPE, SIG_IGN);
  if (!o.contract_spec.empty())
    if (const int code = resolve_contract(o); code != kExitOk) return code;
  StudyRunner runner(o, stdout, stderr);
  if (!runner.open_files()) return kExitUsage;
  return o.replay.empty() ? run_server(o, runner) : run_replay(o, runner);
}

} // namespace studies_cli

#include "http/metrics_endpoint.hpp"

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <map>

namespace http {
namespace asio = boost::asio;

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (const char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (const char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{:.0f}", v);
  return fmt::format("{}", v);
}

void MetricsText::family(std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, escape_help(help),
                 name, type);
}

void MetricsText::labels(const Label* begin, const Label* end, const Label* extra) {
  if (begin == end && !extra) return;
  out_ += '{';
  bool first = true;
  const auto one = [&](const Label& l) {
    if (!first) out_ += ',';
    first = false;
    out_ += l.first;
    out_ += "=\"";
    out_ += escape_label_value(l.second);
    out_ += '"';
  };
  for (auto it = begin; it != end; ++it) one(*it);
  if (extra) one(*extra);
  out_ += '}';
}

void MetricsText::sample(std::string_view name, Labels l, double value) {
  out_ += name;
  labels(l.begin(), l.end());
  out_ += ' ';
  out_ += format_value(value);
  out_ += '\n';
}

void MetricsText::histogram(std::string_view name, Labels l, const Histogram::Snapshot& h) {
  const std::string bucket = std::string(name) + "_bucket";
  for (std::size_t i = 0; i <= h.bounds.size(); ++i) {
    const std::string le = i < h.bounds.size() ? fmt::format("{}", h.bounds[i]) : "+Inf";
    const Label extra{"le", le};
    out_ += bucket;
    labels(l.begin(), l.end(), &extra);
    out_ += ' ';
    out_ += format_value(static_cast<double>(i < h.counts.size() ? h.counts[i] : 0));
    out_ += '\n';
  }
  out_ += name;
  out_ += "_sum";
  labels(l.begin(), l.end());
  out_ += ' ' + format_value(h.sum_seconds) + '\n';
  out_ += name;
  out_ += "_count";
  labels(l.begin(), l.end());
  out_ += ' ' + format_value(static_cast<double>(h.count())) + '\n';
}

std::string tws_message_type(int msg_id) {
  using tws::InId;
  switch (static_cast<InId>(msg_id)) {
  case InId::tick_price: return "tick_price";
  case InId::tick_size: return "tick_size";
  case InId::err_msg: return "err_msg";
  case InId::next_valid_id: return "next_valid_id";
  case InId::contract_data: return "contract_data";
  case InId::managed_accts: return "managed_accts";
  case InId::bond_contract_data: return "bond_contract_data";
  case InId::tick_generic: return "tick_generic";
  case InId::tick_string: return "tick_string";
  case InId::current_time: return "current_time";
  case InId::contract_data_end: return "contract_data_end";
  case InId::tick_snapshot_end: return "tick_snapshot_end";
  case InId::market_data_type: return "market_data_type";
  case InId::symbol_samples: return "symbol_samples";
  case InId::tick_req_params: return "tick_req_params";
  case InId::historical_ticks: return "historical_ticks";
  case InId::historical_ticks_bid_ask: return "historical_ticks_bid_ask";
  case InId::historical_ticks_last: return "historical_ticks_last";
  case InId::tick_by_tick: return "tick_by_tick";
  }
  return "id_" + std::to_string(msg_id);
}

namespace {

constexpr std::array<std::string_view, 6> kStreamStates = {"starting", "live",         "stale",
                                                           "closed",   "disconnected", "lingering"};

void tws_families(MetricsText& m, const MetricsInputs& in) {
  m.family("ib_stream_tws_connected", "gauge", "1 while the TWS connection is up, else 0.");
  m.sample("ib_stream_tws_connected", {}, in.hub.tws.connected ? 1 : 0);
  m.family("ib_stream_tws_reconnects_total", "counter",
           "Reconnections to TWS after a lost connection.");
  m.sample("ib_stream_tws_reconnects_total", {}, static_cast<double>(in.hub.tws.reconnects));
  m.family("ib_stream_tws_messages_received_total", "counter",
           "Messages received from TWS, by message type.");
  for (const auto& [id, n] : in.tws_messages)
    m.sample("ib_stream_tws_messages_received_total", {{"type", tws_message_type(id)}},
             static_cast<double>(n));
}

void stream_families(MetricsText& m, const MetricsInputs& in) {
  std::map<std::string_view, std::size_t> states;
  for (const auto s : kStreamStates) states[s] = 0;
  for (const auto& u : in.hub.upstreams) ++states[u.state];
  m.family("ib_stream_upstream_streams", "gauge",
           "Upstream TWS tick-by-tick subscriptions, by state.");
  for (const auto& [state, n] : states)
    m.sample("ib_stream_upstream_streams", {{"state", state}}, static_cast<double>(n));

  struct PerStream {
    std::string_view name, type, help;
    std::uint64_t stream::HubSnapshot::Upstream::*value;
  };
  using U = stream::HubSnapshot::Upstream;
  const PerStream per_stream[] = {
      {"ib_stream_ticks_received_total", "counter",
       "Ticks received from TWS, by stream (while the Hub holds the stream).", &U::ticks},
      {"ib_stream_ticks_delivered_total", "counter",
       "Ticks handed to client sockets (SSE and WebSocket, history before live included), by "
       "stream.",
       &U::ticks_sent},
      {"ib_stream_ticks_dropped_total", "counter",
       "Ticks slow clients skipped (announced as ticks_lost, or lost at a slow-consumer end), by "
       "stream.",
       &U::dropped},
      {"ib_stream_slow_consumer_ends_total", "counter",
       "Client streams ended with SLOW_CONSUMER, by stream.", &U::slow_consumer_ends},
  };
  for (const auto& f : per_stream) {
    m.family(f.name, f.type, f.help);
    for (const auto& u : in.hub.upstreams)
      m.sample(f.name, {{"contract_id", std::to_string(u.con_id)}, {"tick_type", u.tick_type}},
               static_cast<double>(u.*f.value));
  }
  m.family("ib_stream_stream_clients", "gauge", "Client streams reading a stream, by stream.");
  for (const auto& u : in.hub.upstreams)
    m.sample("ib_stream_stream_clients",
             {{"contract_id", std::to_string(u.con_id)}, {"tick_type", u.tick_type}},
             static_cast<double>(u.clients));

  std::size_t sse = 0, websocket = 0;
  for (const auto& c : in.hub.clients) (c.transport == "sse" ? sse : websocket) += 1;
  m.family("ib_stream_clients", "gauge", "Client streams, by transport.");
  m.sample("ib_stream_clients", {{"transport", "sse"}}, static_cast<double>(sse));
  m.sample("ib_stream_clients", {{"transport", "websocket"}}, static_cast<double>(websocket));
  m.family("ib_stream_websocket_connections", "gauge", "Open WebSocket connections.");
  m.sample("ib_stream_websocket_connections", {}, static_cast<double>(in.websocket_connections));

  m.family("ib_stream_delivery_latency_seconds", "histogram",
           "From the moment the server took a tick from TWS to the completion of the socket "
           "write that carried it: one observation per write of live ticks, for its oldest "
           "tick.");
  m.histogram("ib_stream_delivery_latency_seconds", {}, in.delivery_latency);
}

void http_families(MetricsText& m, const MetricsInputs& in) {
  m.family("ib_stream_http_requests_total", "counter",
           "HTTP requests answered, by route template and status (a stream counts when it "
           "starts, a WebSocket when it is upgraded).");
  for (const auto& [key, n] : in.http_requests)
    m.sample("ib_stream_http_requests_total",
             {{"route", key.first}, {"status", std::to_string(key.second)}},
             static_cast<double>(n));
  m.family("ib_stream_history_requests_total", "counter",
           "History and replay requests, by outcome (admitted, or rejected with 429).");
  m.sample("ib_stream_history_requests_total", {{"outcome", "admitted"}},
           static_cast<double>(in.history_admitted));
  m.sample("ib_stream_history_requests_total", {{"outcome", "rejected"}},
           static_cast<double>(in.history_rejected));
  m.family("ib_stream_history_requests_in_flight", "gauge",
           "History and replay requests being answered.");
  m.sample("ib_stream_history_requests_in_flight", {}, static_cast<double>(in.history_in_flight));
  m.family("ib_stream_history_query_duration_seconds", "histogram",
           "Queries of the record (a page or piece of a history, replay or history-before-live "
           "response, a summary), each on a history worker.");
  m.histogram("ib_stream_history_query_duration_seconds", {}, in.history_query_duration);
}

void recorder_families(MetricsText& m, const MetricsInputs& in) {
  if (!in.recorder) return;
  m.family("ib_stream_recorder_rows_total", "counter",
           "Rows committed to the record by this process, by tracked stream and source (live, "
           "backfill).");
  for (const auto& t : in.tracked) {
    const std::string id = std::to_string(t.con_id);
    const std::string_view type = tws::to_string(t.tick_type);
    m.sample("ib_stream_recorder_rows_total",
             {{"contract_id", id}, {"tick_type", type}, {"source", "live"}},
             static_cast<double>(t.ticks_recorded));
    m.sample("ib_stream_recorder_rows_total",
             {{"contract_id", id}, {"tick_type", type}, {"source", "backfill"}},
             static_cast<double>(t.backfilled));
  }
  m.family("ib_stream_recorder_lag_rows", "gauge",
           "Rows read by the recorder and not yet committed, by tracked stream.");
  for (const auto& t : in.tracked)
    m.sample(
        "ib_stream_recorder_lag_rows",
        {{"contract_id", std::to_string(t.con_id)}, {"tick_type", tws::to_string(t.tick_type)}},
        static_cast<double>(t.lag_ticks));
  m.family("ib_stream_recorder_lag_seconds", "gauge",
           "Age of the oldest row waiting to be committed (0 when none waits), by tracked stream.");
  for (const auto& t : in.tracked)
    m.sample(
        "ib_stream_recorder_lag_seconds",
        {{"contract_id", std::to_string(t.con_id)}, {"tick_type", tws::to_string(t.tick_type)}},
        t.lag_seconds);
  m.family("ib_stream_recorder_pending_rows", "gauge",
           "Rows queued for the record's writer, all streams.");
  m.sample("ib_stream_recorder_pending_rows", {},
           static_cast<double>(in.recorder_health.pending_rows));
  m.family("ib_stream_recorder_write_errors_total", "counter",
           "Failed writes of the record (each retried until it succeeds).");
  m.sample("ib_stream_recorder_write_errors_total", {},
           static_cast<double>(in.recorder_health.write_errors));
  m.family("ib_stream_recorder_degraded", "gauge",
           "1 while the recorder cannot write or has fallen behind, else 0.");
  m.sample("ib_stream_recorder_degraded", {}, in.recorder_health.degraded ? 1 : 0);
  m.family("ib_stream_record_size_bytes", "gauge",
           "Bytes of the record's day files (and their journals) on disk.");
  m.sample("ib_stream_record_size_bytes", {}, static_cast<double>(in.record_bytes));
}

void process_families(MetricsText& m, const std::optional<ProcessStats>& p) {
  if (!p) return;
  m.family("process_cpu_seconds_total", "counter",
           "Total user and system CPU time spent in seconds.");
  m.sample("process_cpu_seconds_total", {}, p->cpu_seconds);
  m.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  m.sample("process_resident_memory_bytes", {}, static_cast<double>(p->resident_bytes));
  m.family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
  m.sample("process_virtual_memory_bytes", {}, static_cast<double>(p->virtual_bytes));
  m.family("process_open_fds", "gauge", "Number of open file descriptors.");
  m.sample("process_open_fds", {}, static_cast<double>(p->open_fds));
  if (p->max_fds) {
    m.family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
    m.sample("process_max_fds", {}, static_cast<double>(*p->max_fds));
  }
  m.family("process_start_time_seconds", "gauge",
           "Start time of the process since unix epoch in seconds.");
  m.sample("process_start_time_seconds", {}, p->start_time_seconds);
}

} // namespace

std::string render_metrics(const MetricsInputs& in) {
  MetricsText m;
  tws_families(m, in);
  stream_families(m, in);
  http_families(m, in);
  recorder_families(m, in);
  process_families(m, in.process);
  return m.take();
}

std::uint64_t record_bytes(const std::string& data_dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(data_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("ticks-", 0) != 0) continue;
    std::error_code size_ec;
    const auto size = it->file_size(size_ec);
    if (!size_ec) total += size;
  }
  return total;
}

void answer_metrics(std::shared_ptr<ServerState> state, asio::any_io_executor ex,
                    std::function<void(Response)> done) {
  auto in = std::make_shared<MetricsInputs>();
  auto finish = [state, in, ex, done]() mutable {
    // Everything counted where it happens, read now.
    auto& reg = server_metrics();
    for (std::size_t id = 0; id < tws::MessageCounts::kSlots; ++id)
      if (const auto n = reg.tws_messages->by_id[id].load(std::memory_order_relaxed); n > 0)
        in->tws_messages.emplace_back(static_cast<int>(id), n);
    in->http_requests = reg.http_requests.snapshot();
    in->delivery_latency = reg.delivery_latency.snapshot();
    in->websocket_connections = state->open_ws_sessions.load(std::memory_order_relaxed);
    in->history_admitted = state->history_workers.admitted();
    in->history_rejected = state->history_workers.rejected();
    in->history_in_flight = state->history_workers.requests();
    in->history_query_duration = state->history_workers.query_duration().snapshot();
    if (in->recorder) in->record_bytes = record_bytes(state->config.data_dir);
    in->process = read_process_stats();
    done(Response{200, render_metrics(*in), std::string(kMetricsContentType), {}});
  };
  state->hub->snapshot([state, in, ex, finish](stream::HubSnapshot s) mutable {
    in->hub = std::move(s);
    if (!state->recorder) return asio::post(ex, std::move(finish));
    in->recorder = true;
    in->recorder_health = state->recorder->health();
    state->recorder->status([in, ex, finish](std::vector<record::TrackedStatus> t) mutable {
      in->tracked = std::move(t);
      asio::post(ex, std::move(finish));
    });
  });
}

} // namespace http

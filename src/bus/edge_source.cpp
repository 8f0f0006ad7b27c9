#include "bus/edge_source.hpp"

#include "bus/messages.hpp"
#include "bus/publisher.hpp"
#include "tws/error_codes.hpp"

#include <spdlog/spdlog.h>

#include <mutex>

namespace bus {

namespace {

using Clock = std::chrono::steady_clock;

class Feed : public stream::RemoteFeed {
public:
  std::unique_ptr<Subscription> ticks, events;
  ~Feed() override {
    // Notices first: none may come after the ticks stopped.
    events.reset();
    ticks.reset();
  }
};

class EdgeSource : public stream::RemoteUpstream, public std::enable_shared_from_this<EdgeSource> {
public:
  explicit EdgeSource(EdgeConfig c) : cfg_(std::move(c)) {}
  ~EdgeSource() override { stop(); }

  void start(std::function<void(bool)> on_link) override {
    std::weak_ptr<EdgeSource> weak = shared_from_this();
    auto options = cfg_.link;
    if (options.name.empty()) options.name = "ib-stream edge " + cfg_.name;
    auto link = Link::connect(options, [weak, on_link](LinkState s, std::string why) {
      auto self = weak.lock();
      if (!self) return;
      {
        std::lock_guard lock(self->mutex_);
        self->bus_error_ = s == LinkState::connected ? std::string() : why;
      }
      spdlog::log(s == LinkState::connected ? spdlog::level::info : spdlog::level::warn,
                  "edge {}: NATS {}{}", self->cfg_.name,
                  s == LinkState::connected ? "connected" : "disconnected",
                  why.empty() ? "" : ": " + why);
      on_link(s == LinkState::connected);
    });
    auto status = link->subscribe("ibs.status", [weak](Message&& m) {
      auto self = weak.lock();
      if (!self) return;
      stream::RemoteStatus st;
      if (!parse_status(m.data, st)) return;
      std::lock_guard lock(self->mutex_);
      self->publisher_ = std::move(st);
      self->heard_ = Clock::now();
    });
    std::lock_guard lock(mutex_);
    link_ = std::move(link);
    status_sub_ = std::move(status);
    if (link_->connected()) on_link(true);
  }

  bool up() const override {
    auto l = link();
    return l && l->connected();
  }

  stream::RemoteStatus status() const override {
    stream::RemoteStatus st;
    std::shared_ptr<Link> l;
    {
      // The link is asked without this lock: its state callback takes it.
      std::lock_guard lock(mutex_);
      st = publisher_;
      l = link_;
      st.bus_error = bus_error_;
      st.publisher_seen =
          heard_ != Clock::time_point{} && Clock::now() - heard_ < cfg_.publisher_silence;
    }
    st.bus_connected = l && l->connected();
    st.bus_url = l ? l->status_text() : cfg_.link.url;
    if (!st.publisher_seen) st.tws_connected = false;
    return st;
  }

  void
  open(int con_id, tws::TickType type,
       std::function<void(std::optional<stream::RemoteOpened>, std::optional<stream::OpenError>)>
           done) override {
    auto l = link();
    if (!l) {
      done(std::nullopt, unavailable("this edge has not started"));
      return;
    }
    const auto label = stream_label({con_id, type});
    l->request("ibs.ctl.open", encode(OpenRequestMsg{con_id, type, cfg_.name}), cfg_.open_timeout,
               [done = std::move(done), label](std::optional<Message> reply, std::string error) {
                 if (!reply) {
                   done(std::nullopt,
                        unavailable("no publisher answered for " + label + " (" + error + ")"));
                   return;
                 }
                 auto parsed = parse_open_reply(reply->data);
                 if (!parsed) {
                   done(std::nullopt, stream::OpenError{502, "INTERNAL_ERROR",
                                                        "The publisher's answer for " + label +
                                                            " could not be read.",
                                                        "The edge and the publisher must be the "
                                                        "same version.",
                                                        0});
                   return;
                 }
                 if (auto* opened = std::get_if<stream::RemoteOpened>(&*parsed))
                   done(std::move(*opened), std::nullopt);
                 else done(std::nullopt, std::get<stream::OpenError>(*parsed));
               });
  }

  std::unique_ptr<stream::RemoteFeed>
  feed(int con_id, tws::TickType type, std::uint64_t from_seq,
       std::function<void(stream::RemoteEvent)> on_event) override {
    auto f = std::make_unique<Feed>();
    auto l = link();
    if (!l) return f;
    const auto label = stream_label({con_id, type});
    try {
      f->events = l->subscribe(events_subject(con_id, type), [on_event, label](Message&& m) {
        auto ev = parse_event(m.data);
        if (!ev) {
          spdlog::warn("edge: a malformed event of {} was ignored", label);
          return;
        }
        on_event(std::move(*ev));
      });
      f->ticks = l->ordered(stream_name(con_id, type), ticks_subject(con_id, type), from_seq,
                            [on_event](Message&& m) {
                              if (!m.header("Ibs-Gap").empty()) return; // never published
                              stream::RemoteEvent ev;
                              ev.kind = stream::RemoteEvent::Kind::tick;
                              ev.seq = m.stream_seq;
                              ev.payload = std::move(m.data);
                              on_event(std::move(ev));
                            });
    } catch (const std::exception& e) {
      spdlog::error("edge: cannot read {} from JetStream: {}", label, e.what());
      stream::RemoteEvent ev;
      ev.kind = stream::RemoteEvent::Kind::ended;
      ev.code = "TWS_UNAVAILABLE";
      ev.error = true;
      ev.message = "This edge cannot read " + label + " from JetStream: " + e.what();
      ev.details = "Retry; check nats-server.";
      on_event(std::move(ev));
    }
    return f;
  }

  void contract_details(tws::Contract query,
                        std::function<void(std::error_code, std::optional<tws::ErrorMessage>,
                                           std::vector<tws::ContractDetails>)>
                            done) override {
    lookup(
        "ibs.ctl.details", encode_details_request(query),
        [done](std::string_view text) {
          auto r = parse_details_reply(text);
          if (!r) return false;
          done(r->first.error, std::move(r->first.tws_error), std::move(r->second));
          return true;
        },
        [done](std::error_code ec) { done(ec, std::nullopt, {}); });
  }

  void matching_symbols(std::string pattern,
                        std::function<void(std::error_code, std::optional<tws::ErrorMessage>,
                                           std::vector<tws::ContractDescription>)>
                            done) override {
    lookup(
        "ibs.ctl.symbols", encode_symbols_request(pattern),
        [done](std::string_view text) {
          auto r = parse_symbols_reply(text);
          if (!r) return false;
          done(r->first.error, std::move(r->first.tws_error), std::move(r->second));
          return true;
        },
        [done](std::error_code ec) { done(ec, std::nullopt, {}); });
  }

  void keep(std::vector<std::pair<int, tws::TickType>> streams) override {
    if (auto l = link(); l && l->connected())
      l->publish("ibs.ctl.keep", encode(KeepMsg{cfg_.name, std::move(streams)}));
  }

  void forward(const std::string& id, const std::string& target, const std::string& origin,
               std::function<void(stream::ForwardChunk)> done) override {
    auto l = link();
    if (!l) {
      done({false, {}, false, "this edge has not started"});
      return;
    }
    const bool first = !target.empty();
    l->request(first ? "ibs.ctl.http" : "ibs.ctl.http.next",
               encode_forward_request(ForwardRequestMsg{id, target, origin}), cfg_.open_timeout,
               [done = std::move(done)](std::optional<Message> reply, std::string error) {
                 stream::ForwardChunk c;
                 if (!reply) {
                   c.error = "no publisher answered (" + error + ")";
                 } else if (auto e = reply->header("Ibs-Error"); !e.empty()) {
                   c.error = "the publisher: " + e;
                 } else {
                   c.ok = true;
                   c.last = !reply->header("Ibs-Last").empty();
                   c.data = std::move(reply->data);
                 }
                 done(std::move(c));
               });
  }

  void release(int con_id, tws::TickType type) override {
    if (auto l = link(); l && l->connected())
      l->publish("ibs.ctl.release", encode(KeepMsg{cfg_.name, {{con_id, type}}}));
  }

  void stop() override {
    std::shared_ptr<Link> l;
    std::unique_ptr<Subscription> s;
    {
      std::lock_guard lock(mutex_);
      l = std::move(link_);
      s = std::move(status_sub_);
    }
    s.reset();
    if (l) l->close();
  }

private:
  static stream::OpenError unavailable(const std::string& why) {
    return stream::OpenError{503, "TWS_UNAVAILABLE", "This edge cannot reach a publisher: " + why,
                             "Retry in a few seconds; check that a publisher runs and reaches "
                             "nats-server.",
                             2};
  }

  /// A lookup through the publisher: `answer` parses the reply (false:
  /// unreadable); `fail` gets not_connected (no publisher answered) or
  /// protocol_error (an unreadable reply).
  void lookup(const std::string& subject, const std::string& request,
              std::function<bool(std::string_view)> answer,
              std::function<void(std::error_code)> fail) {
    auto l = link();
    if (!l) {
      fail(make_error_code(tws::ClientError::not_connected));
      return;
    }
    l->request(subject, request, cfg_.open_timeout,
               [answer = std::move(answer), fail = std::move(fail),
                subject](std::optional<Message> reply, std::string error) {
                 if (!reply) {
                   spdlog::warn("edge: no publisher answered {} ({})", subject, error);
                   fail(make_error_code(tws::ClientError::not_connected));
                 } else if (!answer(reply->data)) {
                   spdlog::warn("edge: the publisher's answer to {} could not be read", subject);
                   fail(make_error_code(tws::ClientError::protocol_error));
                 }
               });
  }

  std::shared_ptr<Link> link() const {
    std::lock_guard lock(mutex_);
    return link_;
  }

  EdgeConfig cfg_;
  mutable std::mutex mutex_;
  std::shared_ptr<Link> link_;
  std::unique_ptr<Subscription> status_sub_;
  std::string bus_error_;
  stream::RemoteStatus publisher_;
  Clock::time_point heard_{};
};

} // namespace

std::shared_ptr<stream::RemoteUpstream> make_edge_source(EdgeConfig config) {
  if (config.link.url.empty()) throw Error("no NATS URL given");
  return std::make_shared<EdgeSource>(std::move(config));
}

} // namespace bus

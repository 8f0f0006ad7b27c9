// bus::Link over the NATS C client: the connection (kept and reconnected
// forever, its state reported), core NATS publish / subscribe / request /
// respond, and the helpers link_js.cpp and lease.cpp share. JetStream is in
// link_js.cpp.
//
// Thread-safety: see link.hpp and link_impl.hpp.
#include "bus/link_impl.hpp"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <unordered_map>

namespace bus {

std::string Message::header(std::string_view key) const {
  for (const auto& [k, v] : headers) {
    if (k == key) return v;
  }
  return {};
}

std::shared_ptr<Link> Link::connect(LinkOptions options,
                                    std::function<void(LinkState, std::string why)> on_state) {
  auto link = std::make_shared<detail::LinkImpl>(std::move(options), std::move(on_state));
  link->start();
  return link;
}

namespace detail {

// ------------------------------------------------------------------ helpers

std::string nats_text(natsStatus s) {
  std::string text = natsStatus_GetText(s);
  natsStatus last_status = NATS_OK;
  const char* last = nats_GetLastError(&last_status);
  if (last != nullptr && *last != '\0' && last_status == s && text != last) {
    text += ": ";
    text += last;
  }
  return text;
}

void fail(const std::string& what, natsStatus s, int code) {
  std::string text = what + ": " + nats_text(s);
  if (code != 0) text += " (JetStream error " + std::to_string(code) + ")";
  throw Error(text, code);
}

Message to_message(natsMsg* msg, bool jetstream) {
  Message out;
  if (const char* subject = natsMsg_GetSubject(msg)) out.subject = subject;
  if (const char* reply = natsMsg_GetReply(msg)) out.reply = reply;
  if (const char* data = natsMsg_GetData(msg)) {
    out.data.assign(data, static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  }
  const char** keys = nullptr;
  int key_count = 0;
  if (natsMsgHeader_Keys(msg, &keys, &key_count) == NATS_OK) {
    for (int i = 0; i < key_count; ++i) {
      const char** values = nullptr;
      int value_count = 0;
      if (natsMsgHeader_Values(msg, keys[i], &values, &value_count) != NATS_OK) continue;
      for (int j = 0; j < value_count; ++j) out.headers.emplace_back(keys[i], values[j]);
      std::free(static_cast<void*>(values));
    }
    std::free(static_cast<void*>(keys));
  }
  if (jetstream) {
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
      out.stream_seq = meta->Sequence.Stream;
      jsMsgMetaData_Destroy(meta);
    }
  }
  return out;
}

natsMsg* make_msg(const std::string& subject, const char* reply, std::string_view data,
                  const Headers& headers) {
  if (subject.empty()) throw Error("NATS message: empty subject");
  natsMsg* msg = nullptr;
  natsStatus s =
      natsMsg_Create(&msg, subject.c_str(), reply, data.data(), static_cast<int>(data.size()));
  if (s != NATS_OK) fail("NATS message to " + subject, s);
  for (const auto& [key, value] : headers) {
    s = natsMsgHeader_Add(msg, key.c_str(), value.c_str());
    if (s != NATS_OK) {
      natsMsg_Destroy(msg);
      fail("NATS header " + key, s);
    }
  }
  return msg;
}

std::string rfc3339(std::int64_t unix_nanos) {
  if (unix_nanos <= 0) return {};
  std::time_t secs = static_cast<std::time_t>(unix_nanos / 1000000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%09lldZ",
                static_cast<long long>(unix_nanos % 1000000000));
  return buf;
}

// ------------------------------------------------------------ subscriptions

void SubImpl::on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto& state = **static_cast<std::shared_ptr<SubState>*>(closure);
  std::lock_guard lock(state.mutex);
  if (state.alive) {
    Message m = to_message(msg, state.jetstream);
    natsMsg_Destroy(msg);
    state.dispatching = std::this_thread::get_id();
    try {
      state.handler(std::move(m));
    } catch (const std::exception& e) {
      spdlog::error("NATS message handler threw: {}", e.what());
    }
    state.dispatching = std::thread::id{};
  } else {
    natsMsg_Destroy(msg);
  }
}

void SubImpl::on_complete(void* closure) {
  delete static_cast<std::shared_ptr<SubState>*>(closure);
}

SubImpl::~SubImpl() {
  if (state_->dispatching.load() == std::this_thread::get_id()) {
    state_->alive = false; // destroyed by its own handler, which holds the mutex
  } else {
    std::lock_guard lock(state_->mutex); // waits for a handler in progress
    state_->alive = false;
  }
  natsSubscription_Unsubscribe(sub_); // fails harmlessly when already closed
  natsSubscription_Destroy(sub_);
}

// ------------------------------------------------------- callback registry

namespace {

struct Registry {
  std::mutex mutex;
  std::unordered_map<std::uint64_t, std::weak_ptr<LinkImpl>> links;
  std::uint64_t next_id = 1;
};

Registry& registry() {
  static auto* r = new Registry; // never destroyed: callbacks may come during exit
  return *r;
}

void* closure_of(std::uint64_t id) {
  return reinterpret_cast<void*>(static_cast<std::uintptr_t>(id));
}

std::shared_ptr<LinkImpl> link_of(void* closure) {
  auto id = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(closure));
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.links.find(id);
  return it == r.links.end() ? nullptr : it->second.lock();
}

std::string connected_url(natsConnection* nc) {
  char buf[256] = {};
  if (natsConnection_GetConnectedUrl(nc, buf, sizeof buf) != NATS_OK) return {};
  return buf;
}

std::string server_id(natsConnection* nc) {
  char buf[256] = {};
  if (natsConnection_GetConnectedServerId(nc, buf, sizeof buf) != NATS_OK) return {};
  return buf;
}

std::string connection_error(natsConnection* nc) {
  const char* text = nullptr;
  natsStatus s = natsConnection_GetLastError(nc, &text);
  if (s == NATS_OK) return "connection lost";
  std::string out = natsStatus_GetText(s);
  if (text != nullptr && *text != '\0' && out != text) out += std::string(": ") + text;
  return out;
}

void on_connected(natsConnection* nc, void* closure) {
  if (auto link = link_of(closure)) {
    link->server_seen(server_id(nc));
    link->report(LinkState::connected, "connected to " + connected_url(nc));
  }
}

void on_reconnected(natsConnection* nc, void* closure) {
  if (auto link = link_of(closure)) {
    link->server_seen(server_id(nc));
    link->report(LinkState::connected, "reconnected to " + connected_url(nc));
  }
}

void on_disconnected(natsConnection* nc, void* closure) {
  if (auto link = link_of(closure)) link->report(LinkState::disconnected, connection_error(nc));
}

void on_closed(natsConnection* nc, void* closure) {
  if (auto link = link_of(closure)) link->report(LinkState::closed, connection_error(nc));
}

void on_async_error(natsConnection*, natsSubscription* sub, natsStatus err, void*) {
  const char* subject = sub != nullptr ? natsSubscription_GetSubject(sub) : nullptr;
  spdlog::warn("NATS: {} (subscription {})", natsStatus_GetText(err),
               subject != nullptr ? subject : "-");
}

void on_ack(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* closure) {
  if (auto link = link_of(closure)) link->handle_ack(msg, ack, error);
  natsMsg_Destroy(msg);
}

} // namespace

// ------------------------------------------------------------- connection

LinkImpl::LinkImpl(LinkOptions options, std::function<void(LinkState, std::string)> on_state)
    : options_(std::move(options)), on_state_(std::move(on_state)) {}

LinkImpl::~LinkImpl() {
  {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    r.links.erase(id_);
  }
  if (nc_ != nullptr) natsConnection_Close(nc_);
  jsCtx_Destroy(js_);
  natsConnection_Destroy(nc_);
}

void LinkImpl::start() {
  if (options_.url.empty()) throw Error("NATS: no server URL");
  if (options_.max_pending_publishes <= 0) throw Error("NATS: max_pending_publishes must be > 0");
  {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    id_ = r.next_id++;
    r.links.emplace(id_, std::static_pointer_cast<LinkImpl>(shared_from_this()));
  }
  void* closure = closure_of(id_);
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  auto set = [&](natsStatus st, const char* what) {
    if (s == NATS_OK && st != NATS_OK) {
      s = st;
      std::string text = std::string("NATS option ") + what + " (" + options_.url + ")";
      natsOptions_Destroy(opts);
      fail(text, st);
    }
  };
  if (s != NATS_OK) fail("NATS options", s);
  set(natsOptions_SetURL(opts, options_.url.c_str()), "url");
  if (!options_.name.empty()) set(natsOptions_SetName(opts, options_.name.c_str()), "name");
  set(natsOptions_SetMaxReconnect(opts, -1), "max reconnect");
  set(natsOptions_SetReconnectWait(opts, options_.reconnect_wait.count()), "reconnect wait");
  set(natsOptions_SetRetryOnFailedConnect(opts, true, &on_connected, closure), "retry");
  set(natsOptions_SetDisconnectedCB(opts, &on_disconnected, closure), "disconnected callback");
  set(natsOptions_SetReconnectedCB(opts, &on_reconnected, closure), "reconnected callback");
  set(natsOptions_SetClosedCB(opts, &on_closed, closure), "closed callback");
  set(natsOptions_SetErrorHandler(opts, &on_async_error, nullptr), "error handler");

  // Held until the initial state is reported, so that it comes first.
  std::lock_guard lock(callback_mutex_);
  s = natsConnection_Connect(&nc_, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) fail("NATS connect to " + options_.url, s);
  std::string why = s == NATS_OK ? "connected to " + connected_url(nc_)
                                 : "connecting to " + options_.url + ": " + nats_text(s);
  if (s == NATS_OK) server_seen(server_id(nc_));

  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = options_.request_timeout.count();
  jo.PublishAsync.MaxPending = options_.max_pending_publishes;
  jo.PublishAsync.AckHandler = &on_ack;
  jo.PublishAsync.AckHandlerClosure = closure;
  jo.PublishAsync.StallWait = options_.request_timeout.count();
  natsStatus js = natsConnection_JetStream(&js_, nc_, &jo);
  if (js != NATS_OK) fail("NATS JetStream context", js);

  report(s == NATS_OK ? LinkState::connected : LinkState::disconnected, why);
}

void LinkImpl::report(LinkState state, const std::string& why) {
  std::lock_guard lock(callback_mutex_);
  if (closed_) return;
  if (state != LinkState::connected) last_error_ = why;
  if (state == LinkState::closed) closed_ = true;
  if (state == LinkState::connected) {
    spdlog::info("NATS: {}", why);
  } else {
    spdlog::warn("NATS {}: {}", state == LinkState::closed ? "closed" : "disconnected", why);
  }
  if (on_state_) on_state_(state, why);
}

bool LinkImpl::connected() const {
  return nc_ != nullptr && natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED;
}

std::string LinkImpl::url() const { return nc_ != nullptr ? connected_url(nc_) : std::string{}; }

std::string LinkImpl::status_text() const {
  if (connected()) return "connected to " + url();
  std::lock_guard lock(callback_mutex_);
  if (closed_) return "closed: " + last_error_;
  return "disconnected: " + last_error_;
}

void LinkImpl::close() {
  {
    std::lock_guard lock(callback_mutex_);
    if (closed_) return;
    if (on_state_) on_state_(LinkState::closed, "closed by the application");
    last_error_ = "closed by the application";
    closed_ = true;
  }
  if (nc_ != nullptr) natsConnection_Close(nc_);
}

// --------------------------------------------------------------- core NATS

void LinkImpl::publish(const std::string& subject, std::string_view data, const Headers& headers) {
  natsMsg* msg = make_msg(subject, nullptr, data, headers);
  natsStatus s = natsConnection_PublishMsg(nc_, msg);
  natsMsg_Destroy(msg);
  if (s != NATS_OK) fail("NATS publish to " + subject, s);
}

std::unique_ptr<Subscription> LinkImpl::subscribe(const std::string& subject,
                                                  std::function<void(Message&&)> handler,
                                                  const std::string& queue) {
  return make_subscription(
      std::move(handler), false, "NATS subscribe to " + subject,
      [&](natsSubscription** sub, natsMsgHandler cb, void* closure, int*) {
        if (queue.empty()) return natsConnection_Subscribe(sub, nc_, subject.c_str(), cb, closure);
        return natsConnection_QueueSubscribe(sub, nc_, subject.c_str(), queue.c_str(), cb, closure);
      });
}

namespace {

/// One request in flight: its inbox subscription calls on_reply once (the
/// reply, or NULL at the timeout), then is unsubscribed; its completion
/// callback frees everything and reports a request the connection's close
/// cut short.
struct RequestState {
  std::function<void(std::optional<Message>, std::string)> done;
  std::mutex setup; // held until the subscription is fully set up
  std::atomic<bool> finished{false};
  natsSubscription* sub = nullptr;
  natsInbox* inbox = nullptr;

  void finish(std::optional<Message> reply, std::string error) {
    if (finished.exchange(true)) return;
    try {
      done(std::move(reply), std::move(error));
    } catch (const std::exception& e) {
      spdlog::error("NATS request completion threw: {}", e.what());
    }
  }

  static void on_reply(natsConnection*, natsSubscription* sub, natsMsg* msg, void* closure) {
    auto* state = static_cast<RequestState*>(closure);
    { std::lock_guard wait(state->setup); }
    if (msg == nullptr) {
      state->finish(std::nullopt, "timeout");
    } else if (natsMsg_IsNoResponders(msg)) {
      state->finish(std::nullopt, "no responders");
    } else {
      state->finish(to_message(msg, false), {});
    }
    natsMsg_Destroy(msg);
    natsSubscription_Unsubscribe(sub);
  }

  static void on_complete(void* closure) {
    auto* state = static_cast<RequestState*>(closure);
    state->finish(std::nullopt, "connection closed");
    natsSubscription_Destroy(state->sub);
    natsInbox_Destroy(state->inbox);
    delete state;
  }
};

} // namespace

void LinkImpl::request(const std::string& subject, std::string_view data,
                       std::chrono::milliseconds timeout,
                       std::function<void(std::optional<Message>, std::string)> done) {
  if (!done) throw Error("NATS request to " + subject + ": no completion");
  if (subject.empty()) throw Error("NATS request: empty subject");
  if (!connected()) {
    done(std::nullopt, "not connected");
    return;
  }
  auto* state = new RequestState;
  state->done = std::move(done);
  std::unique_lock setup(state->setup);
  natsStatus s = natsInbox_Create(&state->inbox);
  if (s == NATS_OK) {
    s = natsConnection_SubscribeTimeout(&state->sub, nc_, state->inbox,
                                        std::max<std::int64_t>(1, timeout.count()),
                                        &RequestState::on_reply, state);
  }
  if (s != NATS_OK) {
    std::string error = "NATS request to " + subject + ": " + nats_text(s);
    natsSubscription_Destroy(state->sub);
    natsInbox_Destroy(state->inbox);
    auto finish = std::move(state->done);
    setup.unlock();
    delete state;
    finish(std::nullopt, error);
    return;
  }
  if (natsSubscription_SetOnCompleteCB(state->sub, &RequestState::on_complete, state) != NATS_OK) {
    // Closed meanwhile (the connection closed): the delivery thread may
    // still reach the state, which is therefore left to it (not freed).
    state->finish(std::nullopt, "connection closed");
    return;
  }
  natsMsg* msg = nullptr;
  s = natsMsg_Create(&msg, subject.c_str(), state->inbox, data.data(),
                     static_cast<int>(data.size()));
  if (s == NATS_OK) s = natsConnection_PublishMsg(nc_, msg);
  natsMsg_Destroy(msg);
  if (s != NATS_OK) {
    // Before `setup` is released: the state lives until on_complete.
    state->finish(std::nullopt, "NATS request to " + subject + ": " + nats_text(s));
    natsSubscription_Unsubscribe(state->sub);
  }
}

void LinkImpl::respond(const Message& request, std::string_view data) {
  if (request.reply.empty()) return;
  publish(request.reply, data, {});
}

} // namespace detail
void release_library(std::chrono::milliseconds timeout) {
  const natsStatus s = nats_CloseAndWait(timeout.count());
  if (s != NATS_OK)
    spdlog::warn("NATS: the client library did not release everything: {}", natsStatus_GetText(s));
}

} // namespace bus

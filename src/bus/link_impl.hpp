// bus::detail: what link.cpp, link_js.cpp and lease.cpp share: LinkImpl
// (bus::Link over the NATS C client), the subscription wrapper that makes
// sure a handler is not called once its Subscription is destroyed, and the
// conversions between natsMsg / natsStatus and the bus types.
//
// Thread-safety: as bus::Link. The C client's callbacks never get a raw
// LinkImpl pointer: they get an id that the registry (link.cpp) maps to a
// weak_ptr, so a callback that races with the Link's destruction finds
// nothing instead of freed memory.
#pragma once

#include "bus/link.hpp"

#include <nats/nats.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace bus::detail {

/// natsStatus_GetText(s) plus the C client's last error of this thread,
/// when it says more.
std::string nats_text(natsStatus s);
/// Throws Error("<what>: <nats_text(s)>", code).
[[noreturn]] void fail(const std::string& what, natsStatus s, int code = 0);

/// Copies subject, reply, data and headers (and the stream sequence of a
/// JetStream message when `jetstream`).
Message to_message(natsMsg* msg, bool jetstream);
/// A new natsMsg (the caller destroys it or hands it to the client).
natsMsg* make_msg(const std::string& subject, const char* reply, std::string_view data,
                  const Headers& headers);

/// Nanoseconds since the epoch as RFC 3339 UTC ("" for 0).
std::string rfc3339(std::int64_t unix_nanos);

/// What a subscription's C callback reaches: the handler and whether it may
/// still be called. The C client holds one shared_ptr to it (its closure),
/// released by the subscription's completion callback.
struct SubState {
  std::function<void(Message&&)> handler;
  bool jetstream = false;
  std::mutex mutex; // held while the handler runs
  bool alive = true;
  std::atomic<std::thread::id> dispatching{}; // the thread running the handler
};

/// Wraps a natsSubscription made with on_message() / on_complete() and a
/// closure from closure_for(state).
class SubImpl final : public Subscription {
public:
  SubImpl(natsSubscription* sub, std::shared_ptr<SubState> state)
      : sub_(sub), state_(std::move(state)) {}
  ~SubImpl() override;

  static void on_message(natsConnection* nc, natsSubscription* sub, natsMsg* msg, void* closure);
  static void on_complete(void* closure);

private:
  natsSubscription* sub_;
  std::shared_ptr<SubState> state_;
};

/// Creates a subscription with `create` (which calls the C client with the
/// handler and closure it is given) and wraps it; throws Error on failure.
template <typename Create>
std::unique_ptr<Subscription> make_subscription(std::function<void(Message&&)> handler,
                                                bool jetstream, const std::string& what,
                                                Create&& create);

class LinkImpl final : public Link {
public:
  LinkImpl(LinkOptions options, std::function<void(LinkState, std::string)> on_state);
  ~LinkImpl() override;
  /// Registers the link for callbacks and starts connecting.
  void start();

  bool connected() const override;
  std::string status_text() const override;
  void close() override;

  void publish(const std::string& subject, std::string_view data, const Headers& headers) override;
  std::unique_ptr<Subscription> subscribe(const std::string& subject,
                                          std::function<void(Message&&)> handler,
                                          const std::string& queue) override;
  void request(const std::string& subject, std::string_view data, std::chrono::milliseconds timeout,
               std::function<void(std::optional<Message>, std::string)> done) override;
  void respond(const Message& request, std::string_view data) override;

  StreamState ensure_stream(const StreamConfig& config) override;
  std::optional<StreamState> stream_state(const std::string& name) override;
  void purge_to(const std::string& name, std::uint64_t next_seq) override;
  bool js_publish(const std::string& subject, std::string_view data, const Headers& headers,
                  std::uint64_t expected_last_seq, const std::string& msg_id) override;
  void on_publish_failure(std::function<void(const PublishFailure&)> handler) override;
  int pending_publishes() const override;
  std::unique_ptr<Subscription> ordered(const std::string& stream, const std::string& subject,
                                        std::uint64_t start_seq,
                                        std::function<void(Message&&)> handler) override;

  jsCtx* js() const { return js_; }
  const LinkOptions& options() const { return options_; }

  // Targets of the C client's callbacks (through the registry).
  void report(LinkState state, const std::string& why);
  /// The server connected to: another one than before (or the same one
  /// restarted) has no stale last sequence (see purge_to).
  void server_seen(const std::string& server_id);
  void handle_ack(natsMsg* msg, jsPubAck* ack, jsPubAckErr* error);

private:
  std::string url() const;
  /// The last sequence the server checks Nats-Expected-Last-Sequence
  /// against, asked on `subject` (a subject of `stream` nobody listens to).
  std::uint64_t probe_last_seq(const std::string& subject, const std::string& stream);
  /// `expected` as the server counts the last sequence of `subject`'s stream.
  std::uint64_t expected_for_server(const std::string& subject, std::uint64_t expected);

  LinkOptions options_;
  std::function<void(LinkState, std::string)> on_state_;
  std::uint64_t id_ = 0;                        // in the registry
  natsConnection* nc_ = nullptr;                // set by start(), destroyed by the destructor
  jsCtx* js_ = nullptr;                         // likewise
  std::atomic<int> pending_{0};                 // js_publish not yet acknowledged
  mutable std::recursive_mutex callback_mutex_; // held while user callbacks run
  bool closed_ = false;                         // guarded by callback_mutex_
  std::string last_error_;                      // guarded by callback_mutex_
  std::function<void(const PublishFailure&)> on_failure_; // guarded by callback_mutex_
  // After purge_to moved a stream's next sequence past its last message, a
  // nats-server 2.9 keeps counting its own last sequence from where it was
  // until it restarts: per subject of such a stream, how far behind it is.
  std::mutex seq_mutex_;
  std::unordered_map<std::string, std::uint64_t> seq_offsets_; // guarded by seq_mutex_
  std::string server_id_;                                      // guarded by seq_mutex_
};

// ---------------------------------------------------------------- template

template <typename Create>
std::unique_ptr<Subscription> make_subscription(std::function<void(Message&&)> handler,
                                                bool jetstream, const std::string& what,
                                                Create&& create) {
  if (!handler) throw Error(what + ": no handler");
  auto state = std::make_shared<SubState>();
  state->handler = std::move(handler);
  state->jetstream = jetstream;
  auto* closure = new std::shared_ptr<SubState>(state);
  natsSubscription* sub = nullptr;
  int code = 0;
  natsStatus s = create(&sub, &SubImpl::on_message, static_cast<void*>(closure), &code);
  if (s != NATS_OK) {
    natsSubscription_Destroy(sub);
    delete closure;
    fail(what, s, code);
  }
  if (natsSubscription_SetOnCompleteCB(sub, &SubImpl::on_complete, closure) != NATS_OK) {
    // Closed already (the connection was closed meanwhile): its delivery
    // thread may still hold the closure, which is therefore left alone.
    std::lock_guard lock(state->mutex);
    state->alive = false;
  }
  return std::make_unique<SubImpl>(sub, std::move(state));
}

} // namespace bus::detail

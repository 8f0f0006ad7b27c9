// bus::Link: one connection to NATS (the NATS C client, libnats 3.4) with
// its JetStream context: what the scale-out roles (src/bus/publisher.*,
// src/bus/edge_source.*) need of NATS and nothing more.
//
// - Core NATS: publish, subscribe, request/reply (asynchronous).
// - JetStream: one stream per (contract, tick type) created or updated with
//   age and byte limits, its state (first/last sequence), a purge that moves
//   the next sequence forward (so that a JetStream sequence can equal the
//   project's stream sequence), asynchronous publishing with the expected
//   last sequence and a message id, ordered consumers from a sequence.
// - A key-value lease (bus::Lease) for electing the publisher that holds TWS.
//
// The connection is made in the background and kept: connect() returns at
// once, even with NATS down, and the link reconnects forever (state changes
// reach `on_state`). Thread-safety: every member may be called from any
// thread. Callbacks (message handlers, request completions, state changes,
// publish errors) run on the NATS client's own threads: they must be quick
// and post real work elsewhere. Blocking members (ensure_stream,
// stream_state, purge_to, the Lease's) wait for NATS up to the request
// timeout and must not run on an event loop that serves clients.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bus {

/// A NATS or JetStream failure: what failed and NATS's own words.
class Error : public std::runtime_error {
public:
  explicit Error(const std::string& what, int code = 0) : std::runtime_error(what), code_(code) {}
  /// JetStream's API error code when there is one (e.g. 10071: wrong last
  /// sequence), else 0.
  int code() const { return code_; }

private:
  int code_;
};

struct LinkOptions {
  std::string url;  // nats://host:port[,nats://...]
  std::string name; // the connection name nats-server shows
  std::chrono::milliseconds reconnect_wait{500};
  std::chrono::milliseconds request_timeout{3000};
  /// Asynchronous JetStream publishes not yet acknowledged: past this,
  /// js_publish waits (up to request_timeout) before failing.
  int max_pending_publishes = 4096;
  /// Idle heartbeat of ordered consumers: one that stops hearing from the
  /// server (e.g. after a nats-server restart) is recreated after about two
  /// missed heartbeats.
  std::chrono::milliseconds ordered_heartbeat{5000};
};

enum class LinkState { connected, disconnected, closed };

/// A received message (copied out of the NATS client's buffers).
struct Message {
  std::string subject;
  std::string reply; // the reply subject of a request; empty otherwise
  std::string data;
  std::vector<std::pair<std::string, std::string>> headers;
  /// JetStream messages: the stream sequence (0 for core NATS messages).
  std::uint64_t stream_seq = 0;

  /// The first value of header `key` ("" when absent).
  std::string header(std::string_view key) const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

/// A subscription; unsubscribes when destroyed. After the destructor
/// returns, its handler is no longer called.
class Subscription {
public:
  virtual ~Subscription() = default;
};

struct StreamConfig {
  std::string name;                  // e.g. IBS_265598_Last
  std::vector<std::string> subjects; // e.g. ibs.ticks.265598.Last
  std::chrono::seconds max_age{86400};
  std::int64_t max_bytes = -1; // -1: no byte limit
};

struct StreamState {
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0; // 0: nothing was ever stored
  std::uint64_t messages = 0;
  std::string created; // RFC 3339, when the stream was created
};

/// How a JetStream publish ended (its ack), reported to the link's
/// publish-error handler when it failed.
struct PublishFailure {
  std::string subject;
  std::string msg_id;
  int code = 0;      // JetStream error code (10071 wrong last sequence), 0 for others
  std::string error; // text
};

class Link : public std::enable_shared_from_this<Link> {
public:
  /// Starts connecting (in the background; never throws for an unreachable
  /// server). Throws Error for an unusable URL or options. The initial
  /// state (connected, or disconnected with why) reaches `on_state` once,
  /// on the calling thread, before connect() returns.
  static std::shared_ptr<Link> connect(LinkOptions options,
                                       std::function<void(LinkState, std::string why)> on_state);
  virtual ~Link() = default;

  virtual bool connected() const = 0;
  /// The server's URL when connected, else the last error (for /health).
  virtual std::string status_text() const = 0;
  /// Closes the connection (handlers stop being called); idempotent.
  virtual void close() = 0;

  // ---- core NATS
  /// Throws Error when closed; while disconnected, messages are buffered
  /// (the C client's reconnect buffer) and sent after the reconnect.
  virtual void publish(const std::string& subject, std::string_view data,
                       const Headers& headers = {}) = 0;
  /// `queue` non-empty: a queue subscription (one member of the group gets
  /// each message).
  virtual std::unique_ptr<Subscription> subscribe(const std::string& subject,
                                                  std::function<void(Message&&)> handler,
                                                  const std::string& queue = {}) = 0;
  /// Request/reply: `done` runs exactly once, with the reply or nullopt and
  /// why (timeout, no responders, not connected).
  virtual void request(const std::string& subject, std::string_view data,
                       std::chrono::milliseconds timeout,
                       std::function<void(std::optional<Message>, std::string error)> done) = 0;
  /// Answers a request received by a subscription (does nothing when it has
  /// no reply subject).
  virtual void respond(const Message& request, std::string_view data) = 0;

  // ---- JetStream (blocking: see the header comment)
  /// Creates the stream or updates its limits; returns its state.
  virtual StreamState ensure_stream(const StreamConfig& config) = 0;
  /// nullopt: no such stream.
  virtual std::optional<StreamState> stream_state(const std::string& name) = 0;
  /// Removes every message before `next_seq`; when the stream holds nothing
  /// from there, the next message it stores gets sequence `next_seq`.
  virtual void purge_to(const std::string& name, std::uint64_t next_seq) = 0;
  /// Asynchronous publish with header Nats-Expected-Last-Sequence =
  /// expected_last_seq and Nats-Msg-Id = msg_id (plus `headers`). Returns
  /// false when it could not even be queued (not connected, too many
  /// pending); acks that fail later go to the publish-error handler.
  virtual bool js_publish(const std::string& subject, std::string_view data, const Headers& headers,
                          std::uint64_t expected_last_seq, const std::string& msg_id) = 0;
  virtual void on_publish_failure(std::function<void(const PublishFailure&)> handler) = 0;
  /// Publishes not yet acknowledged.
  virtual int pending_publishes() const = 0;
  /// An ordered consumer of `subject` in `stream` from sequence
  /// `start_seq` (1 = from the first held): messages in order, each once,
  /// with Message::stream_seq; it survives reconnects (the client recreates
  /// it after the last sequence delivered).
  virtual std::unique_ptr<Subscription> ordered(const std::string& stream,
                                                const std::string& subject, std::uint64_t start_seq,
                                                std::function<void(Message&&)> handler) = 0;
};

/// At the process's end, once every Link is gone: joins the NATS client's
/// own threads (nats_CloseAndWait), waiting at most `timeout`. No Link may
/// be made afterwards.
void release_library(std::chrono::milliseconds timeout);

/// A lease in a JetStream key-value bucket whose entries expire after
/// `ttl`: held by whoever created the key last, kept by renewing it within
/// the ttl. Blocking calls (see Link).
class Lease {
public:
  /// Opens (creates when missing) bucket `bucket` with history 1 and
  /// max age `ttl`; when NATS cannot be reached yet, the first call that
  /// needs the bucket opens it. The destructor does not release the lease.
  /// Members throw Error when NATS does not answer (renew: returns false).
  Lease(std::shared_ptr<Link> link, std::string bucket, std::string key,
        std::chrono::milliseconds ttl);
  ~Lease();
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  /// Takes the lease when nobody holds it (the key is absent or expired),
  /// writing `holder`. True: this process holds it now.
  bool try_acquire(const std::string& holder);
  /// Renews a held lease (an update at the revision it last wrote). False:
  /// it was lost (someone else holds it, or it expired and was taken).
  bool renew();
  /// Gives it up (deletes the key when still held).
  void release();
  bool held() const;
  /// Who holds it now ("" when nobody), as written by try_acquire.
  std::string holder();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace bus

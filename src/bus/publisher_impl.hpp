// Internals of bus::Publisher, shared by publisher.cpp (leadership, control,
// heartbeat) and publisher_stream.cpp (the streams it publishes). Members
// without a lock note live on the publisher's loop.
#pragma once

#include "bus/messages.hpp"
#include "bus/publisher.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace bus {

using Clock = std::chrono::steady_clock;

class PublisherImpl;

/// One stream published to JetStream: a client of the Hub (transport
/// "nats") whose log reader publishes every entry.
struct PublishedStream : stream::Subscriber,
                         stream::LogConsumer,
                         std::enable_shared_from_this<PublishedStream> {
  enum class State { idle, opening, publishing };

  PublishedStream(PublisherImpl& p, StreamKey k) : pub(p), key(k) {}

  PublisherImpl& pub;
  StreamKey key;
  State state = State::idle;
  std::map<std::string, Clock::time_point> edges; // edge -> keep deadline
  bool tracked = false;
  bool takeover = false;        // opened for an edge's keep: say `reconnected`
  std::vector<Message> replies; // open requests waiting for the answer
  std::uint64_t stream_id = 0;  // the Hub's client stream
  stream::ContractInfo contract;
  std::shared_ptr<stream::ReaderGroup> readers;
  stream::LogCursor cursor;
  std::uint64_t js_last = 0;    // JetStream's last sequence of this stream
  bool js_empty = true;         // ... and it holds no message (may be aligned)
  std::uint64_t answer_seq = 0; // the last sequence when it was opened
  std::shared_ptr<boost::asio::steady_timer> retry;
  std::string epoch; // Ibs-Epoch: when this numbering started

  // stream::Subscriber (the Hub's strand)
  void end(stream::EndReason reason, const std::optional<stream::Notice>& why) override;
  // stream::LogConsumer (the publisher's loop)
  void on_log_advanced() override;
};

class PublisherImpl : public Publisher, public std::enable_shared_from_this<PublisherImpl> {
public:
  explicit PublisherImpl(PublisherConfig c);
  ~PublisherImpl() override;
  void connect();

  void start(std::shared_ptr<stream::Hub> hub, std::function<void()> on_leader,
             std::function<void()> on_lost) override;
  std::uint64_t seq_base(int con_id, tws::TickType type) override;
  PublisherStatus status() const override;
  void set_http(std::string host, std::uint16_t port, std::optional<std::string> api_key) override;
  void stop() override;

  // ---- publisher.cpp
  void lease_loop();
  void lose(const std::string& why);
  void become_leader();
  bool leader() const;
  /// link_, for the threads other than the loop's and the lease's (which
  /// stop() joins before it drops the link).
  std::shared_ptr<Link> link_now() const;
  void on_open(Message&& m);
  void on_keep(Message&& m);
  void on_release(Message&& m);
  void arm_status();
  void heartbeat();
  void expire_edges(const stream::HubSnapshot& snap);
  void on_publish_failure(const PublishFailure& f);

  // ---- publisher_stream.cpp
  PublishedStream& stream_of(const StreamKey& key);
  void open_stream(PublishedStream& s);
  void opened(const std::shared_ptr<PublishedStream>& s, stream::OpenResult r);
  void answer_replies(PublishedStream& s);
  void close_stream(PublishedStream& s);
  void ended(const std::shared_ptr<PublishedStream>& s, stream::EndReason reason,
             const std::optional<stream::Notice>& why);
  /// Publishes what the stream's log holds past its cursor; false when
  /// NATS took no more now (retried shortly).
  bool publish_entries(PublishedStream& s);
  /// Publishes what it can now; retries shortly when NATS took no more.
  void on_log_advanced_now(PublishedStream& s);
  void count_published(std::uint64_t n);

  // ---- publisher_forward.cpp
  /// `ibs.ctl.http` (first) and `ibs.ctl.http.next`: a piece of the answer.
  void on_forward(Message&& m, bool first);
  void close_transfers();
  struct Transfer {
    int fd = -1; // -1 while a request reads it
    Clock::time_point used{};
  };
  std::mutex transfers_mutex_; // guards what follows
  std::map<std::string, Transfer> transfers_;
  std::string http_host_;
  std::uint16_t http_port_ = 0;
  std::optional<std::string> api_key_;

  PublisherConfig cfg_;
  std::shared_ptr<Link> link_;
  std::shared_ptr<stream::Hub> hub_;
  std::function<void()> on_leader_, on_lost_;
  boost::asio::io_context loop_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_, lease_thread_;
  std::atomic<bool> stopping_{false};
  std::condition_variable stop_cv_;
  boost::asio::steady_timer status_timer_;
  std::vector<std::unique_ptr<Subscription>> subs_;
  std::map<StreamKey, std::shared_ptr<PublishedStream>> streams_;

  mutable std::mutex mutex_; // guards what follows
  bool leader_ = false;
  std::string leader_name_;
  std::map<StreamKey, std::uint64_t> js_last_; // for seq_base
  std::uint64_t published_ = 0;
  std::uint64_t publish_failures_ = 0;
  std::string last_failure_;
};

} // namespace bus

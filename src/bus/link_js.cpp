// bus::Link's JetStream members over the NATS C client: streams (create or
// update, state, purge to a sequence), asynchronous publishing with the
// expected last sequence and a message id, ordered consumers.
//
// Thread-safety: see link.hpp. The blocking members wait for the JetStream
// API up to LinkOptions::request_timeout.
#include "bus/link_impl.hpp"

#include <spdlog/spdlog.h>

namespace bus::detail {

namespace {

constexpr std::int64_t nanos_per_ms = 1000000;

StreamState state_of(const jsStreamInfo* info) {
  StreamState out;
  out.first_seq = info->State.FirstSeq;
  out.last_seq = info->State.LastSeq;
  out.messages = info->State.Msgs;
  out.created = rfc3339(info->Created);
  return out;
}

/// Owns a jsStreamInfo from the C client.
struct InfoGuard {
  jsStreamInfo* info = nullptr;
  ~InfoGuard() { jsStreamInfo_Destroy(info); }
};

void check_stream_name(const std::string& name, const char* what) {
  if (name.empty()) throw Error(std::string(what) + ": empty stream name");
  if (name.find_first_of(" .*>\t") != std::string::npos) {
    throw Error(std::string(what) + ": invalid stream name '" + name + "'");
  }
}

std::string header_value(natsMsg* msg, const char* key) {
  const char* value = nullptr;
  if (msg == nullptr || natsMsgHeader_Get(msg, key, &value) != NATS_OK || value == nullptr)
    return {};
  return value;
}

} // namespace

StreamState LinkImpl::ensure_stream(const StreamConfig& config) {
  check_stream_name(config.name, "JetStream stream");
  if (config.subjects.empty()) throw Error("JetStream stream " + config.name + ": no subjects");
  if (config.max_age.count() < 0) throw Error("JetStream stream " + config.name + ": max_age < 0");
  std::vector<const char*> subjects;
  for (const auto& subject : config.subjects) subjects.push_back(subject.c_str());

  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  sc.Name = config.name.c_str();
  sc.Subjects = subjects.data();
  sc.SubjectsLen = static_cast<int>(subjects.size());
  sc.Storage = js_FileStorage;
  sc.Retention = js_LimitsPolicy;
  sc.Discard = js_DiscardOld;
  sc.MaxAge = static_cast<std::int64_t>(config.max_age.count()) * 1000 * nanos_per_ms;
  sc.MaxBytes = config.max_bytes;

  InfoGuard guard;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_AddStream(&guard.info, js_, &sc, nullptr, &code);
  if (s != NATS_OK && code == JSStreamNameExistErr) {
    // It exists with other settings: update them.
    code = static_cast<jsErrCode>(0);
    s = js_UpdateStream(&guard.info, js_, &sc, nullptr, &code);
  }
  if (s != NATS_OK) fail("JetStream stream " + config.name, s, code);
  return state_of(guard.info);
}

std::optional<StreamState> LinkImpl::stream_state(const std::string& name) {
  check_stream_name(name, "JetStream stream info");
  InfoGuard guard;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&guard.info, js_, name.c_str(), nullptr, &code);
  if (s == NATS_NOT_FOUND || code == JSStreamNotFoundErr) return std::nullopt;
  if (s != NATS_OK) fail("JetStream stream info " + name, s, code);
  return state_of(guard.info);
}

namespace {

void purge(jsCtx* js, const std::string& name, std::uint64_t before) {
  jsOptions opts;
  jsOptions_Init(&opts);
  opts.Stream.Purge.Sequence = before;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_PurgeStream(js, name.c_str(), &opts, &code);
  if (s != NATS_OK) fail("JetStream purge of " + name + " to " + std::to_string(before), s, code);
}

void update(jsCtx* js, jsStreamConfig* config) {
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_UpdateStream(nullptr, js, config, nullptr, &code);
  if (s != NATS_OK) fail(std::string("JetStream stream ") + config->Name, s, code);
}

} // namespace

void LinkImpl::purge_to(const std::string& name, std::uint64_t next_seq) {
  check_stream_name(name, "JetStream purge");
  if (next_seq == 0) throw Error("JetStream purge of " + name + ": next sequence 0");
  InfoGuard guard;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&guard.info, js_, name.c_str(), nullptr, &code);
  if (s != NATS_OK) fail("JetStream purge of " + name, s, code);
  const std::uint64_t last = guard.info->State.LastSeq;
  purge(js_, name, next_seq);
  if (next_seq <= last + 1) return; // the last sequence did not move

  // Past the last message: nats-server 2.9 moves the store's sequences but
  // not the last sequence it checks Nats-Expected-Last-Sequence against
  // (until the stream is loaded again, at its next start). Ask the server
  // for that one: a publish whose expectation cannot hold, refused with
  // "wrong last sequence: <its last sequence>", on a subject added to the
  // stream for the time being so that no subscriber sees it.
  jsStreamConfig original = *guard.info->Config;
  const std::string probe_subject = "_ibs_seq." + name;
  std::vector<const char*> subjects(original.Subjects, original.Subjects + original.SubjectsLen);
  subjects.push_back(probe_subject.c_str());
  jsStreamConfig with_probe = original;
  with_probe.Subjects = subjects.data();
  with_probe.SubjectsLen = static_cast<int>(subjects.size());
  update(js_, &with_probe);
  std::uint64_t server_last = 0;
  try {
    server_last = probe_last_seq(probe_subject, name);
  } catch (const Error&) {
    try {
      update(js_, &original);
    } catch (const Error& e) {
      spdlog::error("{}", e.what());
    }
    throw;
  }
  update(js_, &original);

  std::lock_guard lock(seq_mutex_);
  for (int i = 0; i < original.SubjectsLen; ++i) seq_offsets_.erase(original.Subjects[i]);
  if (server_last == next_seq - 1) return;
  if (server_last > next_seq - 1) {
    throw Error("JetStream purge of " + name + ": the server's last sequence is " +
                std::to_string(server_last) + ", past " + std::to_string(next_seq - 1));
  }
  for (int i = 0; i < original.SubjectsLen; ++i) {
    seq_offsets_[original.Subjects[i]] = next_seq - 1 - server_last;
  }
  spdlog::info("JetStream stream {}: the server counts its last sequence as {} (not {}) until "
               "it restarts; expected last sequences are translated",
               name, server_last, next_seq - 1);
}

std::uint64_t LinkImpl::probe_last_seq(const std::string& subject, const std::string& stream) {
  natsMsg* msg = make_msg(subject, nullptr, {}, {});
  natsStatus s = natsMsgHeader_Set(msg, "Nats-Expected-Last-Sequence", "18446744073709551615");
  jsErrCode code = static_cast<jsErrCode>(0);
  std::string text;
  if (s == NATS_OK) {
    s = js_PublishMsg(nullptr, js_, msg, nullptr, &code);
    const char* last = nats_GetLastError(nullptr);
    if (last != nullptr) text = last;
  }
  natsMsg_Destroy(msg);
  auto colon = text.rfind(": ");
  if (s == NATS_OK || code != JSStreamWrongLastSequenceErr || colon == std::string::npos) {
    fail("JetStream stream " + stream + ": asking for its last sequence", s, code);
  }
  try {
    return std::stoull(text.substr(colon + 2));
  } catch (const std::exception&) {
    throw Error("JetStream stream " + stream + ": unexpected answer '" + text + "'");
  }
}

void LinkImpl::server_seen(const std::string& server_id) {
  std::lock_guard lock(seq_mutex_);
  if (server_id == server_id_) return;
  server_id_ = server_id;
  seq_offsets_.clear(); // a server (re)started has loaded its streams afresh
}

std::uint64_t LinkImpl::expected_for_server(const std::string& subject, std::uint64_t expected) {
  std::lock_guard lock(seq_mutex_);
  auto it = seq_offsets_.find(subject);
  if (it == seq_offsets_.end()) return expected;
  // Before the purge point nothing can match (the server's count is lower).
  return expected >= it->second ? expected - it->second : UINT64_MAX;
}

bool LinkImpl::js_publish(const std::string& subject, std::string_view data, const Headers& headers,
                          std::uint64_t expected_last_seq, const std::string& msg_id) {
  if (!connected()) return false;
  natsMsg* msg = make_msg(subject, nullptr, data, headers);
  // Set here rather than through jsPubOptions, which leaves out an expected
  // last sequence of 0 (an empty stream).
  natsStatus s =
      natsMsgHeader_Set(msg, "Nats-Expected-Last-Sequence",
                        std::to_string(expected_for_server(subject, expected_last_seq)).c_str());
  if (s == NATS_OK && !msg_id.empty()) s = natsMsgHeader_Set(msg, "Nats-Msg-Id", msg_id.c_str());
  if (s != NATS_OK) {
    natsMsg_Destroy(msg);
    fail("JetStream publish to " + subject, s);
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = options_.request_timeout.count(); // an ack not back by then fails
  ++pending_;
  s = js_PublishMsgAsync(js_, &msg, &po);
  if (s != NATS_OK) {
    --pending_;
    natsMsg_Destroy(msg); // still ours when it was not queued
    spdlog::debug("JetStream publish to {} not queued: {}", subject, nats_text(s));
    return false;
  }
  return true;
}

void LinkImpl::handle_ack(natsMsg* msg, jsPubAck*, jsPubAckErr* error) {
  --pending_;
  if (error == nullptr) return;
  PublishFailure failure;
  if (msg != nullptr && natsMsg_GetSubject(msg) != nullptr)
    failure.subject = natsMsg_GetSubject(msg);
  failure.msg_id = header_value(msg, "Nats-Msg-Id");
  failure.code = static_cast<int>(error->ErrCode);
  failure.error = error->ErrText != nullptr && *error->ErrText != '\0'
                      ? error->ErrText
                      : natsStatus_GetText(error->Err);
  std::lock_guard lock(callback_mutex_);
  if (closed_ || !on_failure_) return;
  try {
    on_failure_(failure);
  } catch (const std::exception& e) {
    spdlog::error("JetStream publish-failure handler threw: {}", e.what());
  }
}

void LinkImpl::on_publish_failure(std::function<void(const PublishFailure&)> handler) {
  std::lock_guard lock(callback_mutex_);
  on_failure_ = std::move(handler);
}

int LinkImpl::pending_publishes() const { return pending_.load(); }

std::unique_ptr<Subscription> LinkImpl::ordered(const std::string& stream,
                                                const std::string& subject, std::uint64_t start_seq,
                                                std::function<void(Message&&)> handler) {
  check_stream_name(stream, "JetStream ordered consumer");
  if (subject.empty()) throw Error("JetStream ordered consumer of " + stream + ": empty subject");
  return make_subscription(
      std::move(handler), true, "JetStream ordered consumer of " + stream + " (" + subject + ")",
      [&](natsSubscription** sub, natsMsgHandler cb, void* closure, int* code) {
        jsSubOptions so;
        jsSubOptions_Init(&so);
        so.Stream = stream.c_str();
        so.Ordered = true;
        if (start_seq > 0) {
          so.Config.DeliverPolicy = js_DeliverByStartSequence;
          so.Config.OptStartSeq = start_seq;
        } else {
          so.Config.DeliverPolicy = js_DeliverAll;
        }
        so.Config.Heartbeat = options_.ordered_heartbeat.count() * nanos_per_ms;
        jsErrCode err = static_cast<jsErrCode>(0);
        natsStatus s = js_Subscribe(sub, js_, subject.c_str(), cb, closure, nullptr, &so, &err);
        *code = static_cast<int>(err);
        return s;
      });
}

} // namespace bus::detail

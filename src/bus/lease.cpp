// bus::Lease: a lease in a JetStream key-value bucket whose entries expire
// after the ttl (the bucket's max age). Taking it is a create (only when
// the key is absent, expired or deleted), keeping it an update at the
// revision last written, giving it up a delete at that revision: a holder
// whose lease expired and was taken can neither renew nor delete it.
//
// Thread-safety: every member may be called from any thread (one mutex);
// they block on NATS up to the link's request timeout.
#include "bus/link_impl.hpp"

namespace bus {

struct Lease::Impl {
  std::shared_ptr<detail::LinkImpl> link;
  std::string bucket;
  std::string key;
  std::chrono::milliseconds ttl;
  std::mutex mutex;
  kvStore* kv = nullptr;      // opened on first use
  std::uint64_t revision = 0; // of our last write while held
  bool held = false;
  std::string holder; // what we wrote

  ~Impl() { kvStore_Destroy(kv); }

  kvStore* store() {
    if (kv != nullptr) return kv;
    kvConfig config;
    kvConfig_Init(&config);
    config.Bucket = bucket.c_str();
    config.History = 1;
    config.TTL = static_cast<std::int64_t>(ttl.count()) * 1000000;
    natsStatus s = js_CreateKeyValue(&kv, link->js(), &config);
    if (s != NATS_OK) {
      // It exists with other settings (another ttl): use it as it is.
      kv = nullptr;
      natsStatus opened = js_KeyValue(&kv, link->js(), bucket.c_str());
      if (opened != NATS_OK) {
        kv = nullptr;
        detail::fail("lease bucket " + bucket, s);
      }
    }
    return kv;
  }
};

Lease::Lease(std::shared_ptr<Link> link, std::string bucket, std::string key,
             std::chrono::milliseconds ttl)
    : impl_(std::make_unique<Impl>()) {
  impl_->link = std::dynamic_pointer_cast<detail::LinkImpl>(link);
  if (!impl_->link) throw Error("lease: the link was not made by bus::Link::connect");
  if (bucket.empty() || key.empty()) throw Error("lease: empty bucket or key");
  if (ttl.count() <= 0) throw Error("lease: the ttl must be positive");
  impl_->bucket = std::move(bucket);
  impl_->key = std::move(key);
  impl_->ttl = ttl;
  try {
    std::lock_guard lock(impl_->mutex);
    impl_->store();
  } catch (const Error&) {
    // NATS is not there yet: opened by the first call that needs it.
  }
}

Lease::~Lease() = default;

bool Lease::try_acquire(const std::string& holder) {
  auto& d = *impl_;
  std::lock_guard lock(d.mutex);
  std::uint64_t revision = 0;
  natsStatus s = kvStore_Create(&revision, d.store(), d.key.c_str(), holder.data(),
                                static_cast<int>(holder.size()));
  if (s == NATS_OK) {
    d.held = true;
    d.revision = revision;
    d.holder = holder;
    return true;
  }
  d.held = false;
  // Held by someone (the JetStream API refused the create): not an error.
  if (s == NATS_ERR) return false;
  detail::fail("lease " + d.bucket + "/" + d.key, s);
}

bool Lease::renew() {
  auto& d = *impl_;
  std::lock_guard lock(d.mutex);
  if (!d.held) return false;
  std::uint64_t revision = 0;
  natsStatus s = kvStore_Update(&revision, d.store(), d.key.c_str(), d.holder.data(),
                                static_cast<int>(d.holder.size()), d.revision);
  if (s != NATS_OK) {
    d.held = false;
    return false;
  }
  d.revision = revision;
  return true;
}

void Lease::release() {
  auto& d = *impl_;
  std::lock_guard lock(d.mutex);
  if (!d.held) return;
  d.held = false;
  // A delete marker, accepted only if our write is still the last one.
  std::string subject = "$KV." + d.bucket + "." + d.key;
  natsMsg* msg = detail::make_msg(subject, nullptr, {}, {{"KV-Operation", "DEL"}});
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.ExpectLastSubjectSeq = d.revision;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_PublishMsg(nullptr, d.link->js(), msg, &po, &code);
  natsMsg_Destroy(msg);
  if (s != NATS_OK && code != JSStreamWrongLastSequenceErr) {
    detail::fail("lease release " + d.bucket + "/" + d.key, s, code);
  }
}

bool Lease::held() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->held;
}

std::string Lease::holder() {
  auto& d = *impl_;
  std::lock_guard lock(d.mutex);
  kvEntry* entry = nullptr;
  natsStatus s = kvStore_Get(&entry, d.store(), d.key.c_str());
  if (s == NATS_NOT_FOUND) return {};
  if (s != NATS_OK) detail::fail("lease " + d.bucket + "/" + d.key, s);
  const void* value = kvEntry_Value(entry);
  std::string out;
  if (value != nullptr) {
    out.assign(static_cast<const char*>(value), static_cast<std::size_t>(kvEntry_ValueLen(entry)));
  }
  kvEntry_Destroy(entry);
  return out;
}

} // namespace bus

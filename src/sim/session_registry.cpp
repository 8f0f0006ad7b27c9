#include "sim/session_registry.hpp"

#include "sim/api_session.hpp"

namespace sim {

void SessionRegistry::add(const std::shared_ptr<ApiSession>& session) {
  sessions_[session->serial()] = session;
}

void SessionRegistry::remove(const ApiSession& session, Clock::time_point now) {
  sessions_.erase(session.serial());
  const auto id = session.client_id();
  if (!id) return;
  auto it = owners_.find(*id);
  if (it == owners_.end() || it->second != session.serial()) return;
  owners_.erase(it);
  holds_[*id] = now + hold_;
}

bool SessionRegistry::claim(int client_id, const ApiSession& session, Clock::time_point now) {
  if (owners_.count(client_id) != 0) return false;
  if (auto it = holds_.find(client_id); it != holds_.end()) {
    if (now < it->second) return false;
    holds_.erase(it);
  }
  owners_[client_id] = session.serial();
  return true;
}

std::vector<std::shared_ptr<ApiSession>> SessionRegistry::all() const {
  std::vector<std::shared_ptr<ApiSession>> out;
  out.reserve(sessions_.size());
  for (const auto& [serial, weak] : sessions_)
    if (auto s = weak.lock()) out.push_back(std::move(s));
  return out;
}

void SessionRegistry::broadcast_error(int code, std::string_view text) const {
  for (const auto& s : all())
    if (s->api_started()) s->send_error(-1, code, text);
}

std::vector<int> SessionRegistry::held_ids(Clock::time_point now) const {
  std::vector<int> out;
  for (const auto& [id, until] : holds_)
    if (now < until) out.push_back(id);
  return out;
}

} // namespace sim

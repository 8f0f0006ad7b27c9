// tws::Client, requests and message routing: contract details, matching symbols, tick-by-tick
// subscriptions, historical ticks, current time, and each decoded TWS message (errors included)
// delivered to the request it belongs to (the connection is in client.cpp).
#include "tws/client.hpp"
#include "tws/client_impl.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace tws {

namespace asio = boost::asio;

// ------------------------------------------------------------ dispatch

void Client::Impl::handle(ErrorMessage& m) {
  const ErrorClass cls = classify_error(m.code);
  if (phase_ == Phase::starting && m.code == 326) {
    attempt_failed(make_error_code(ClientError::client_id_in_use), m.text);
    return;
  }
  if (m.id != kNoValidId) {
    if (auto it = details_.find(m.id); it != details_.end()) {
      if (cls.kind == ErrorKind::request_failed) {
        auto pending = std::move(it->second);
        details_.erase(it);
        if (pending.timer) pending.timer->cancel();
        pending.done(make_error_code(ClientError::request_failed), &m, {});
        return;
      }
    } else if (auto hit = historical_.find(m.id); hit != historical_.end()) {
      if (cls.kind == ErrorKind::request_failed) {
        auto pending = std::move(hit->second);
        historical_.erase(hit);
        if (pending.timer) pending.timer->cancel();
        pending.done(make_error_code(ClientError::request_failed), &m, {});
        return;
      }
    } else if (auto yit = symbols_.find(m.id); yit != symbols_.end()) {
      if (cls.kind == ErrorKind::request_failed) {
        auto pending = std::move(yit->second);
        symbols_.erase(yit);
        if (pending.timer) pending.timer->cancel();
        pending.done(make_error_code(ClientError::request_failed), &m, {});
        return;
      }
    } else if (auto sit = subs_.find(m.id); sit != subs_.end()) {
      auto cb = sit->second;
      if (cls.kind == ErrorKind::request_failed) subs_.erase(sit);
      if (cb->on_error) cb->on_error(m, cls);
      return;
    }
  }
  log_notice(m, cls);
  if (events_.notice) events_.notice(m, cls);
}

void Client::Impl::log_notice(const ErrorMessage& m, const ErrorClass& cls) {
  switch (cls.kind) {
  case ErrorKind::info: spdlog::info("TWS notice {}: {}", m.code, m.text); break;
  case ErrorKind::warning:
  case ErrorKind::connectivity: spdlog::warn("TWS {} (id {}): {}", m.code, m.id, m.text); break;
  default: spdlog::error("TWS error {} (id {}): {}", m.code, m.id, m.text); break;
  }
}

void Client::Impl::handle(ContractData& m) {
  if (auto it = details_.find(m.req_id); it != details_.end())
    it->second.details.push_back(std::move(m.details));
  else spdlog::debug("contract data for unknown request {}", m.req_id);
}

// §10.13: one CONTRACT_DATA per match, all with the reqId, then one END
// (collected above); no match is error 200 without an END (handle(ErrorMessage&)).
void Client::Impl::handle(ContractDataEnd& m) {
  auto it = details_.find(m.req_id);
  if (it == details_.end()) return;
  auto pending = std::move(it->second);
  details_.erase(it);
  if (pending.timer) pending.timer->cancel();
  pending.done({}, nullptr, std::move(pending.details));
}

void Client::Impl::handle(CurrentTime& m) {
  if (time_requests_.empty()) return;
  auto done = std::move(time_requests_.front());
  time_requests_.pop_front();
  if (done) done({}, m.time);
}

template <class T> void Client::Impl::deliver_tick(int req_id, T& tick) {
  auto it = subs_.find(req_id);
  if (it == subs_.end()) return; // cancelled: TWS may still send a few
  auto cb = it->second;
  if (cb->on_tick) cb->on_tick(Tick{std::move(tick)});
}

void Client::Impl::handle(TickByTickLast& m) { deliver_tick(m.req_id, m); }
void Client::Impl::handle(TickByTickBidAsk& m) { deliver_tick(m.req_id, m); }
void Client::Impl::handle(TickByTickMidPoint& m) { deliver_tick(m.req_id, m); }
void Client::Impl::handle(TickByTickNone&) {}

void Client::Impl::historical_reply(int req_id, bool done, std::vector<Tick>& ticks) {
  auto it = historical_.find(req_id);
  if (it == historical_.end()) {
    spdlog::debug("historical ticks for unknown request {}", req_id);
    return;
  }
  auto& collected = it->second.ticks;
  collected.insert(collected.end(), std::make_move_iterator(ticks.begin()),
                   std::make_move_iterator(ticks.end()));
  if (!done) return;
  auto pending = std::move(it->second);
  historical_.erase(it);
  if (pending.timer) pending.timer->cancel();
  pending.done({}, nullptr, std::move(pending.ticks));
}

void Client::Impl::handle(HistoricalTicks& m) {
  std::vector<Tick> ticks;
  ticks.reserve(m.ticks.size());
  for (const auto& t : m.ticks) ticks.emplace_back(TickByTickMidPoint{m.req_id, t.time, t.price});
  historical_reply(m.req_id, m.done, ticks);
}

void Client::Impl::handle(HistoricalTicksBidAsk& m) {
  std::vector<Tick> ticks;
  ticks.reserve(m.ticks.size());
  for (const auto& t : m.ticks) {
    ticks.emplace_back(TickByTickBidAsk{m.req_id, t.time, t.bid_price, t.ask_price, t.bid_size,
                                        t.ask_size, t.bid_past_low, t.ask_past_high});
  }
  historical_reply(m.req_id, m.done, ticks);
}

void Client::Impl::handle(HistoricalTicksLast& m) {
  std::vector<Tick> ticks;
  ticks.reserve(m.ticks.size());
  for (auto& t : m.ticks) {
    ticks.emplace_back(TickByTickLast{m.req_id, TickType::all_last, t.time, t.price, t.size,
                                      t.past_limit, t.unreported, std::move(t.exchange),
                                      std::move(t.special_conditions)});
  }
  historical_reply(m.req_id, m.done, ticks);
}

void Client::Impl::handle(SymbolSamples& m) {
  auto it = symbols_.find(m.req_id);
  if (it == symbols_.end()) {
    spdlog::debug("symbol samples for unknown request {}", m.req_id);
    return;
  }
  auto pending = std::move(it->second);
  symbols_.erase(it);
  if (pending.timer) pending.timer->cancel();
  pending.done({}, nullptr, std::move(m.descriptions));
}

void Client::Impl::handle(OtherMessage& m) {
  spdlog::trace("ignoring TWS message id {}", m.msg_id);
}

// ------------------------------------------------------------ requests

int Client::Impl::new_req_id() { return next_req_id_++; }

template <class Map>
std::shared_ptr<asio::steady_timer> Client::Impl::arm_timeout(Map Impl::*pending, int id) {
  auto timer = std::make_shared<asio::steady_timer>(ex_, cfg_.request_timeout);
  timer->async_wait([self = shared_from_this(), pending, id](boost::system::error_code ec) {
    if (ec) return;
    auto& map = (*self).*pending;
    auto it = map.find(id);
    if (it == map.end()) return;
    auto request = std::move(it->second);
    map.erase(it);
    request.done(make_error_code(ClientError::timeout), nullptr, {});
  });
  return timer;
}

void Client::Impl::request_contract_details(const Contract& c, DetailsHandler done) {
  if (phase_ != Phase::ready) {
    asio::post(ex_, [done = std::move(done)] {
      done(make_error_code(ClientError::not_connected), nullptr, {});
    });
    return;
  }
  const int id = new_req_id();
  details_[id] = PendingDetails{std::move(done), {}, arm_timeout(&Impl::details_, id)};
  send(encode(ReqContractDetails{id, c}, info_.server_version));
}

int Client::Impl::subscribe(const Contract& c, TickType type, TickCallbacks cb) {
  if (phase_ != Phase::ready) {
    if (cb.on_error) {
      asio::post(ex_, [cb = std::move(cb)] {
        cb.on_error(ErrorMessage{kNoValidId, 504, "Not connected", ""},
                    ErrorClass{ErrorKind::request_failed, "not connected"});
      });
    }
    return 0;
  }
  const int id = new_req_id();
  if (info_.server_version < sv::kTickByTick) {
    // As IB's clients do: refuse locally rather than send what TWS cannot read.
    if (cb.on_error) {
      asio::post(ex_, [cb = std::move(cb), id, v = info_.server_version] {
        cb.on_error(ErrorMessage{id, 503,
                                 "The TWS is out of date and must be upgraded. It does not "
                                 "support tick-by-tick requests (server version " +
                                     std::to_string(v) + " < 137).",
                                 ""},
                    ErrorClass{ErrorKind::request_failed, "TWS too old for tick-by-tick"});
      });
    }
    return id;
  }
  subs_[id] = std::make_shared<TickCallbacks>(std::move(cb));
  ReqTickByTickData req;
  req.req_id = id;
  req.contract = c;
  req.tick_type = std::string(to_string(type));
  send(encode(req, info_.server_version));
  return id;
}

void Client::Impl::cancel(int req_id) {
  if (subs_.erase(req_id) == 0) return;
  if (phase_ == Phase::ready) send(encode(CancelTickByTickData{req_id}));
}

void Client::Impl::request_time(TimeHandler done) {
  if (phase_ != Phase::ready) {
    asio::post(ex_,
               [done = std::move(done)] { done(make_error_code(ClientError::not_connected), 0); });
    return;
  }
  time_requests_.push_back(std::move(done));
  send(encode(ReqCurrentTime{}));
}

void Client::Impl::request_historical_ticks(const HistoricalTicksRequest& r,
                                            HistoricalTicksHandler done) {
  if (phase_ != Phase::ready) {
    asio::post(ex_, [done = std::move(done)] {
      done(make_error_code(ClientError::not_connected), nullptr, {});
    });
    return;
  }
  const int id = new_req_id();
  if (info_.server_version < sv::kHistoricalTicks) {
    // As IB's clients do: refuse locally rather than send what TWS cannot read.
    asio::post(ex_, [done = std::move(done), id, v = info_.server_version] {
      const ErrorMessage err{id, 503,
                             "The TWS is out of date and must be upgraded. It does not support "
                             "historical ticks requests (server version " +
                                 std::to_string(v) + " < 130).",
                             ""};
      done(make_error_code(ClientError::request_failed), &err, {});
    });
    return;
  }
  historical_[id] = PendingHistorical{std::move(done), {}, arm_timeout(&Impl::historical_, id)};
  ReqHistoricalTicks req;
  req.req_id = id;
  req.contract = r.contract;
  req.start_date_time = r.start;
  req.end_date_time = r.end;
  req.number_of_ticks = r.count;
  req.what_to_show = r.what_to_show;
  req.use_rth = r.use_rth;
  req.ignore_size = r.ignore_size;
  send(encode(req));
}

void Client::Impl::request_matching_symbols(const std::string& pattern, SymbolSamplesHandler done) {
  if (phase_ != Phase::ready) {
    asio::post(ex_, [done = std::move(done)] {
      done(make_error_code(ClientError::not_connected), nullptr, {});
    });
    return;
  }
  const int id = new_req_id();
  if (info_.server_version < sv::kReqMatchingSymbols) {
    // As IB's clients do: refuse locally rather than send what TWS cannot read.
    asio::post(ex_, [done = std::move(done), id, v = info_.server_version] {
      const ErrorMessage err{id, 503,
                             "The TWS is out of date and must be upgraded. It does not support "
                             "matching symbols requests (server version " +
                                 std::to_string(v) + " < 108).",
                             ""};
      done(make_error_code(ClientError::request_failed), &err, {});
    });
    return;
  }
  symbols_[id] = PendingSymbols{std::move(done), arm_timeout(&Impl::symbols_, id)};
  send(encode(ReqMatchingSymbols{id, pattern}));
}

// ------------------------------------------------------------ Client

void Client::request_contract_details(int con_id, DetailsHandler done) {
  Contract c;
  c.con_id = con_id;
  impl_->request_contract_details(c, std::move(done));
}
void Client::request_contract_details(const Contract& contract, DetailsHandler done) {
  impl_->request_contract_details(contract, std::move(done));
}
int Client::subscribe_tick_by_tick(const Contract& contract, TickType type,
                                   TickCallbacks callbacks) {
  return impl_->subscribe(contract, type, std::move(callbacks));
}
void Client::cancel_tick_by_tick(int req_id) { impl_->cancel(req_id); }
void Client::request_current_time(TimeHandler done) { impl_->request_time(std::move(done)); }
void Client::request_historical_ticks(const HistoricalTicksRequest& request,
                                      HistoricalTicksHandler done) {
  impl_->request_historical_ticks(request, std::move(done));
}
void Client::request_matching_symbols(const std::string& pattern, SymbolSamplesHandler done) {
  impl_->request_matching_symbols(pattern, std::move(done));
}
std::size_t Client::subscription_count() const { return impl_->subs_.size(); }

} // namespace tws

#include "contracts/contract_service.hpp"

#include "tws/error_codes.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <deque>
#include <map>

namespace asio = boost::asio;

namespace contracts {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t system_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

LookupError error(int status, std::string code, std::string message, std::string details = {},
                  int retry_after = 0) {
  return LookupError{status, std::move(code), std::move(message), std::move(details), retry_after,
                     {}};
}

/// IB's answers that mean "not now" (pacing) rather than "no".
bool is_pacing(const tws::ErrorMessage* err) {
  if (!err) return false;
  if (err->code == 100 || err->code == 420) return true;
  const auto text = lower(err->text);
  return text.find("pacing") != std::string::npos;
}

void sort_details(std::vector<tws::ContractDetails>& list) {
  std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
    const auto& x = a.contract;
    const auto& y = b.contract;
    return std::tie(x.sec_type, x.symbol, x.last_trade_date_or_contract_month, x.exchange,
                    x.con_id) < std::tie(y.sec_type, y.symbol, y.last_trade_date_or_contract_month,
                                         y.exchange, y.con_id);
  });
}

} // namespace

struct ContractService::Impl : std::enable_shared_from_this<ContractService::Impl> {
  Impl(asio::any_io_executor ex, std::shared_ptr<stream::Hub> h, ServiceConfig c)
      : strand(asio::make_strand(ex)), hub(std::move(h)), config(std::move(c)),
        symbol_timer(strand) {
    if (!config.now) config.now = system_now;
  }

  asio::strand<asio::any_io_executor> strand;
  std::shared_ptr<stream::Hub> hub;
  ServiceConfig config;
  ContractCache cache;
  Stats counters;

  // Lookups sent to TWS or waiting for a slot.
  std::size_t in_flight = 0;
  std::deque<std::function<void()>> waiting;
  std::map<std::string, std::vector<SearchHandler>> searches_pending;
  std::map<int, std::vector<DetailsHandler>> details_pending;

  // reqMatchingSymbols: one a second.
  asio::steady_timer symbol_timer;
  Clock::time_point last_symbols{};
  std::deque<std::function<void()>> symbols_waiting;
  bool symbol_timer_armed = false;
  std::map<std::string, std::vector<SymbolsHandler>> symbols_pending;
  struct Samples {
    std::vector<tws::ContractDescription> list;
    std::int64_t fetched = 0;
  };
  std::map<std::string, Samples> symbols_cache;

  bool save_scheduled = false;

  bool fresh(std::int64_t fetched) const { return config.now() - fetched < config.max_age.count(); }

  /// Runs `job` when a TWS slot is free; false when too many wait already.
  bool admit(std::function<void()> job) {
    if (in_flight < config.max_in_flight) {
      ++in_flight;
      ++counters.tws_requests;
      job();
      return true;
    }
    if (waiting.size() >= config.max_waiting) return false;
    waiting.push_back(std::move(job));
    return true;
  }
  void finished() {
    --in_flight;
    if (!waiting.empty() && in_flight < config.max_in_flight) {
      auto job = std::move(waiting.front());
      waiting.pop_front();
      ++in_flight;
      ++counters.tws_requests;
      job();
    }
  }

  LookupError busy() const {
    return error(429, "RATE_LIMIT_EXCEEDED", "Too many contract lookups waiting for TWS",
                 "Retry shortly; results are cached once found", 1);
  }

  /// The LookupError for a failed TWS request.
  LookupError tws_failure(std::error_code ec, const tws::ErrorMessage* err,
                          const std::string& what) const {
    if (is_pacing(err))
      return error(429, "RATE_LIMIT_EXCEEDED",
                   "TWS refused the lookup of " + what + ": " + std::to_string(err->code) + " " +
                       err->text,
                   "IB paces contract lookups; retry after the Retry-After seconds", 2);
    if (err)
      return error(502, "TWS_ERROR_" + std::to_string(err->code),
                   "TWS answered the lookup of " + what + " with error " +
                       std::to_string(err->code) + ": " + err->text,
                   "");
    if (ec == make_error_code(tws::ClientError::timeout))
      return error(503, "TWS_UNAVAILABLE", "TWS did not answer the lookup of " + what + " in time",
                   "Retry shortly", config.retry_after_s);
    return error(503, "TWS_UNAVAILABLE",
                 "TWS is not connected: " + what + " is not in the contract cache",
                 "Retry when TWS is back (GET /health)", config.retry_after_s);
  }

  void schedule_save() {
    if (config.cache_file.empty() || save_scheduled) return;
    save_scheduled = true;
    // Coalesced: the answers of a burst are written once.
    asio::post(strand, [self = shared_from_this()] {
      self->save_scheduled = false;
      if (auto err = self->cache.save(self->config.cache_file))
        spdlog::warn("contract cache: {}", *err);
    });
  }

  // ---------------------------------------------------------------- search

  void search(tws::Contract query, SearchHandler done) {
    const auto key = ContractCache::search_key(query);
    const auto cached = cache.search(key);
    if (cached && fresh(cached->fetched)) {
      ++counters.cache_hits;
      done(std::nullopt, details_of(*cached), cached->fetched);
      return;
    }
    auto& pending = searches_pending[key];
    pending.push_back(std::move(done));
    if (pending.size() > 1) {
      ++counters.shared;
      return;
    }
    const bool ok = admit([self = shared_from_this(), key, query] {
      self->hub->contract_details(query, [self, key,
                                          query](std::error_code ec, const tws::ErrorMessage* err,
                                                 std::vector<tws::ContractDetails> found) {
        // The Hub's strand: back to ours (err lives only during this call).
        std::optional<tws::ErrorMessage> copy;
        if (err) copy = *err;
        asio::post(self->strand, [self, key, query, ec, copy, found = std::move(found)]() mutable {
          self->finished();
          self->searched(key, query, ec, copy ? &*copy : nullptr, std::move(found));
        });
      });
    });
    if (!ok) {
      ++counters.refused;
      finish_search(key, busy(), {}, 0);
    }
  }

  DetailsList details_of(const ContractCache::Search& s) const {
    DetailsList out;
    for (int id : s.con_ids) out.push_back(cache.details(id)->details);
    sort_details(out);
    return out;
  }

  void searched(const std::string& key, const tws::Contract& query, std::error_code ec,
                const tws::ErrorMessage* err, std::vector<tws::ContractDetails> found) {
    const auto now = config.now();
    if (!ec) {
      cache.put_search(key, found, now);
      schedule_save();
      hub->remember_contracts(found); // a stream of one of them asks TWS nothing more
      sort_details(found);
      finish_search(key, std::nullopt, std::move(found), now);
      return;
    }
    if (err && err->code == 200) { // no security definition: no match
      finish_search(key, std::nullopt, {}, now);
      return;
    }
    // TWS could not answer: an older answer is better than none.
    if (const auto cached = cache.search(key)) {
      finish_search(key, std::nullopt, details_of(*cached), cached->fetched);
      return;
    }
    finish_search(key, tws_failure(ec, err, "'" + query.symbol + "'"), {}, 0);
  }

  void finish_search(const std::string& key, Error e, const DetailsList& list, std::int64_t as_of) {
    auto handlers = std::move(searches_pending[key]);
    searches_pending.erase(key);
    for (auto& h : handlers) h(e, list, as_of);
  }

  // --------------------------------------------------------------- details

  void details(int con_id, DetailsHandler done, bool refresh) {
    const auto* cached = cache.details(con_id);
    if (cached && fresh(cached->fetched) && !refresh) {
      ++counters.cache_hits;
      done(std::nullopt, cached->details, cached->fetched);
      return;
    }
    auto& pending = details_pending[con_id];
    pending.push_back(std::move(done));
    if (pending.size() > 1) {
      ++counters.shared;
      return;
    }
    const bool ok = admit([self = shared_from_this(), con_id] {
      tws::Contract q;
      q.con_id = con_id;
      self->hub->contract_details(q, [self, con_id](std::error_code ec,
                                                    const tws::ErrorMessage* err,
                                                    std::vector<tws::ContractDetails> found) {
        std::optional<tws::ErrorMessage> copy;
        if (err) copy = *err;
        asio::post(self->strand, [self, con_id, ec, copy, found = std::move(found)]() mutable {
          self->finished();
          self->got_details(con_id, ec, copy ? &*copy : nullptr, std::move(found));
        });
      });
    });
    if (!ok) {
      ++counters.refused;
      finish_details(con_id, busy(), {}, 0);
    }
  }

  void got_details(int con_id, std::error_code ec, const tws::ErrorMessage* err,
                   std::vector<tws::ContractDetails> found) {
    const auto now = config.now();
    if (!ec && !found.empty()) {
      cache.put_details(found.front(), now);
      schedule_save();
      hub->remember_contracts({found.front()});
      finish_details(con_id, std::nullopt, found.front(), now);
      return;
    }
    if ((!ec && found.empty()) || (err && err->code == 200)) {
      finish_details(con_id,
                     error(404, "CONTRACT_NOT_FOUND",
                           "TWS has no contract with id " + std::to_string(con_id),
                           "Find the id with GET /contracts/search?symbol=... or ?q=..."),
                     {}, 0);
      return;
    }
    if (const auto* cached = cache.details(con_id)) {
      finish_details(con_id, std::nullopt, cached->details, cached->fetched);
      return;
    }
    finish_details(con_id, tws_failure(ec, err, "contract " + std::to_string(con_id)), {}, 0);
  }

  void finish_details(int con_id, Error e, const tws::ContractDetails& d, std::int64_t as_of) {
    auto handlers = std::move(details_pending[con_id]);
    details_pending.erase(con_id);
    for (auto& h : handlers) h(e, d, as_of);
  }

  // --------------------------------------------------------------- symbols

  void matching(std::string pattern, SymbolsHandler done) {
    const auto key = lower(pattern);
    if (auto it = symbols_cache.find(key); it != symbols_cache.end() && fresh(it->second.fetched)) {
      ++counters.cache_hits;
      done(std::nullopt, it->second.list, it->second.fetched);
      return;
    }
    auto& pending = symbols_pending[key];
    pending.push_back(std::move(done));
    if (pending.size() > 1) {
      ++counters.shared;
      return;
    }
    if (symbols_waiting.size() >= config.max_symbol_waiting) {
      ++counters.refused;
      const int wait =
          static_cast<int>((symbols_waiting.size() + 1) * config.symbol_spacing.count() / 1000 + 1);
      finish_symbols(key,
                     error(429, "RATE_LIMIT_EXCEEDED", "Too many symbol searches waiting",
                           "IB allows one symbol search a second; retry after the Retry-After "
                           "seconds",
                           wait),
                     {}, 0);
      return;
    }
    symbols_waiting.push_back([self = shared_from_this(), key, pattern] {
      ++self->counters.tws_requests;
      self->hub->matching_symbols(pattern, [self, key](std::error_code ec,
                                                       const tws::ErrorMessage* err,
                                                       std::vector<tws::ContractDescription> list) {
        std::optional<tws::ErrorMessage> copy;
        if (err) copy = *err;
        asio::post(self->strand, [self, key, ec, copy, list = std::move(list)]() mutable {
          if (!ec) {
            const auto now = self->config.now();
            self->symbols_cache[key] = Samples{list, now};
            self->finish_symbols(key, std::nullopt, list, now);
            return;
          }
          self->finish_symbols(key, self->tws_failure(ec, copy ? &*copy : nullptr, "'" + key + "'"),
                               {}, 0);
        });
      });
    });
    next_symbols();
  }

  void next_symbols() {
    if (symbols_waiting.empty() || symbol_timer_armed) return;
    const auto due = last_symbols + config.symbol_spacing;
    if (Clock::now() >= due) {
      last_symbols = Clock::now();
      auto job = std::move(symbols_waiting.front());
      symbols_waiting.pop_front();
      job();
      next_symbols();
      return;
    }
    symbol_timer_armed = true;
    symbol_timer.expires_at(due);
    symbol_timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      self->symbol_timer_armed = false;
      if (!ec) self->next_symbols();
    });
  }

  void finish_symbols(const std::string& key, Error e,
                      const std::vector<tws::ContractDescription>& list, std::int64_t as_of) {
    auto handlers = std::move(symbols_pending[key]);
    symbols_pending.erase(key);
    for (auto& h : handlers) h(e, list, as_of);
  }

  // --------------------------------------------------------------- resolve

  void resolve(ContractRef ref, ResolveHandler done) {
    if (ref.is_id()) {
      done(std::nullopt, ref.con_id);
      return;
    }
    const ContractSpec spec = *ref.spec;
    search(spec.query(), [spec, done = std::move(done)](Error e, DetailsList found, std::int64_t) {
      if (e) return done(std::move(e), 0);
      if (found.size() == 1) return done(std::nullopt, found.front().contract.con_id);
      if (found.empty()) {
        std::string hint = "Search with GET /contracts/search?symbol=" + spec.symbol;
        if (spec.sec_type == "STK") hint += " (a future or an index: add :FUT or :IND)";
        return done(
            error(404, "CONTRACT_NOT_FOUND", "No contract matches '" + spec.text() + "'", hint), 0);
      }
      LookupError amb =
          error(400, "AMBIGUOUS_CONTRACT",
                std::to_string(found.size()) + " contracts match '" + spec.text() + "'", "");
      std::string list;
      for (const auto& d : found) {
        const auto& c = d.contract;
        if (!list.empty()) list += ", ";
        list +=
            std::to_string(c.con_id) + " " + (c.local_symbol.empty() ? c.symbol : c.local_symbol);
        if (!c.last_trade_date_or_contract_month.empty())
          list += " " + c.last_trade_date_or_contract_month;
        if (!c.exchange.empty()) list += " " + c.exchange;
      }
      amb.details =
          "Give the contract id or a longer spec (exchange, currency, expiry), e.g. " +
          spec.symbol + ":" + spec.sec_type + ":" + (found.front().contract.exchange) + ":" +
          found.front().contract.currency +
          (found.front().contract.last_trade_date_or_contract_month.empty()
               ? ""
               : ":" + found.front().contract.last_trade_date_or_contract_month.substr(0, 6)) +
          ". Candidates: " + list;
      amb.candidates = std::move(found);
      done(std::move(amb), 0);
    });
  }
};

std::shared_ptr<ContractService> ContractService::create(asio::any_io_executor ex,
                                                         std::shared_ptr<stream::Hub> hub,
                                                         ServiceConfig config) {
  auto impl = std::make_shared<Impl>(std::move(ex), std::move(hub), std::move(config));
  if (!impl->config.cache_file.empty()) {
    if (auto warning = impl->cache.load(impl->config.cache_file)) spdlog::warn("{}", *warning);
    else if (impl->cache.size() > 0)
      spdlog::info("contract cache: {} contracts from {}", impl->cache.size(),
                   impl->config.cache_file.string());
  }
  return std::shared_ptr<ContractService>(new ContractService(std::move(impl)));
}

ContractService::ContractService(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

ContractService::~ContractService() {
  asio::post(impl_->strand, [impl = impl_] { impl->symbol_timer.cancel(); });
}

void ContractService::search(tws::Contract query, SearchHandler done) {
  asio::post(impl_->strand, [impl = impl_, q = std::move(query), done = std::move(done)]() mutable {
    impl->search(std::move(q), std::move(done));
  });
}

void ContractService::details(int con_id, DetailsHandler done, bool refresh) {
  asio::post(impl_->strand, [impl = impl_, con_id, refresh, done = std::move(done)]() mutable {
    impl->details(con_id, std::move(done), refresh);
  });
}

void ContractService::matching_symbols(std::string pattern, SymbolsHandler done) {
  asio::post(impl_->strand,
             [impl = impl_, p = std::move(pattern), done = std::move(done)]() mutable {
               impl->matching(std::move(p), std::move(done));
             });
}

void ContractService::resolve(ContractRef ref, ResolveHandler done) {
  asio::post(impl_->strand, [impl = impl_, ref = std::move(ref), done = std::move(done)]() mutable {
    impl->resolve(std::move(ref), std::move(done));
  });
}

void ContractService::stats(std::function<void(Stats)> done) {
  asio::post(impl_->strand, [impl = impl_, done = std::move(done)] { done(impl->counters); });
}

} // namespace contracts

// contracts::ContractService: contract lookups for the server, through the
// Hub's TWS connection: search by description (reqContractDetails with a
// symbol, security type, exchange, currency, expiry), details by contract
// id, IB's fuzzy symbol search (reqMatchingSymbols), and the resolution of
// a contract reference (an id or a spec, contract_spec.hpp) to one id.
//
// - Cached: details by id and searches by query, in memory and in
//   `contracts.json` of the data directory (written atomically), so that a
//   restart does not ask IB again; an entry older than a day is refreshed
//   when next used (if TWS cannot answer then, the older entry is served).
//   Symbol-search answers are kept in memory for a day.
// - Identical concurrent lookups share one TWS request.
// - Paced within IB's limits: at most 4 lookups in flight at TWS, up to 64
//   waiting (more: 429 with Retry-After); reqMatchingSymbols at most once a
//   second (IB's rule), up to 5 waiting. IB's own refusals (pacing) are
//   429 with Retry-After; TWS down is 503 TWS_UNAVAILABLE with Retry-After.
//
// Thread-safety: every public member may be called from any thread; it
// posts to the service's strand. Handlers run on that strand: post to your
// own loop for real work.
#pragma once

#include "contracts/contract_cache.hpp"
#include "contracts/contract_spec.hpp"
#include "stream/hub.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace contracts {

/// Why a lookup gave no answer (api.md error body + HTTP status).
struct LookupError {
  int status = 500;    // 400, 404, 429, 503
  std::string code;    // CONTRACT_NOT_FOUND, AMBIGUOUS_CONTRACT, RATE_LIMIT_EXCEEDED, ...
  std::string message; // what happened, naming the contract
  std::string details; // what to do
  int retry_after_s = 0;
  /// AMBIGUOUS_CONTRACT: the contracts that matched.
  std::vector<tws::ContractDetails> candidates;
};

struct ServiceConfig {
  /// The disk cache (contracts.json); empty: memory only.
  std::filesystem::path cache_file;
  /// An entry older than this is asked again when used.
  std::chrono::seconds max_age{86400};
  std::size_t max_in_flight = 4;
  std::size_t max_waiting = 64;
  std::chrono::milliseconds symbol_spacing{1000};
  std::size_t max_symbol_waiting = 5;
  /// For 503 TWS_UNAVAILABLE.
  int retry_after_s = 5;
  /// The clock (Unix seconds); tests set a fake one.
  std::function<std::int64_t()> now;
};

class ContractService : public std::enable_shared_from_this<ContractService> {
public:
  using Error = std::optional<LookupError>;
  using DetailsList = std::vector<tws::ContractDetails>;
  /// `as_of`: when the answer was fetched from IB (Unix seconds).
  using SearchHandler = std::function<void(Error, DetailsList, std::int64_t as_of)>;
  using DetailsHandler = std::function<void(Error, tws::ContractDetails, std::int64_t as_of)>;
  using SymbolsHandler =
      std::function<void(Error, std::vector<tws::ContractDescription>, std::int64_t as_of)>;
  using ResolveHandler = std::function<void(Error, int con_id)>;

  /// Loads the disk cache (a damaged file is set aside with a warning).
  static std::shared_ptr<ContractService>
  create(boost::asio::any_io_executor ex, std::shared_ptr<stream::Hub> hub, ServiceConfig config);
  ~ContractService();

  /// Every contract matching `query` (conId 0), sorted by security type,
  /// symbol, expiry, exchange. No match: an empty list (not an error).
  void search(tws::Contract query, SearchHandler done);
  /// One contract's details. `refresh`: ask IB even when a fresh entry is
  /// cached (the hours ran out). Unknown id: 404 CONTRACT_NOT_FOUND.
  void details(int con_id, DetailsHandler done, bool refresh = false);
  /// IB's fuzzy symbol search (up to 16 samples).
  void matching_symbols(std::string pattern, SymbolsHandler done);
  /// An id is answered as is (the stream's own lookup checks it); a spec
  /// must match exactly one contract: none is 404 CONTRACT_NOT_FOUND,
  /// several 400 AMBIGUOUS_CONTRACT with the candidates.
  void resolve(ContractRef ref, ResolveHandler done);

  struct Stats {
    std::uint64_t tws_requests = 0; // lookups sent to TWS
    std::uint64_t cache_hits = 0;
    std::uint64_t shared = 0;  // lookups that joined one in flight
    std::uint64_t refused = 0; // 429 by our pacing
  };
  void stats(std::function<void(Stats)> done);

  struct Impl;

private:
  explicit ContractService(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

} // namespace contracts

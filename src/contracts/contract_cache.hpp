// contracts::ContractCache: contract details by id and search answers by
// query, with the time each was fetched from IB; kept in memory and in a
// JSON file (written to a temporary file, then renamed: a crash or a full
// disk leaves the previous file whole). The file's format:
//   {"version":1,"contracts":{"265598":{"fetched":1764806400,"details":{...}}},
//    "searches":{"AAPL|STK|SMART|USD|":{"fetched":...,"contract_ids":[265598]}}}
//
// Thread-safety: none; the ContractService uses it on its strand.
#pragma once

#include <boost/json/object.hpp>

#include "tws/messages.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace contracts {

class ContractCache {
public:
  struct Details {
    tws::ContractDetails details;
    std::int64_t fetched = 0; // Unix seconds
  };
  struct Search {
    std::vector<int> con_ids;
    std::int64_t fetched = 0;
  };

  /// The key of a search: its fields upper-cased, '|'-separated.
  static std::string search_key(const tws::Contract& query);

  const Details* details(int con_id) const;
  void put_details(const tws::ContractDetails& d, std::int64_t fetched);
  /// The search's answer with every contract's details, or nullopt when the
  /// search or one of its contracts is not cached.
  std::optional<Search> search(const std::string& key) const;
  void put_search(const std::string& key, const std::vector<tws::ContractDetails>& found,
                  std::int64_t fetched);
  std::size_t size() const { return details_.size(); }

  /// Reads `file` (missing: empty). A file that cannot be parsed is renamed
  /// to `<file>.bad` and the cache starts empty; returns a warning then.
  std::optional<std::string> load(const std::filesystem::path& file);
  /// Writes the whole cache; returns an error text when it could not.
  std::optional<std::string> save(const std::filesystem::path& file) const;

private:
  std::map<int, Details> details_;
  std::map<std::string, Search> searches_;
};

/// ContractDetails <-> the JSON object of the cache file (the fields the
/// server shows and uses; order types and the like are not kept).
std::string details_to_cache_json(const tws::ContractDetails& d);
/// The same as a JSON object, and back (throws std::invalid_argument for an
/// object that is not one: a field of the wrong type, no con_id).
boost::json::object details_to_json(const tws::ContractDetails& d);
tws::ContractDetails details_from_json(const boost::json::object& o);

} // namespace contracts

// ContractCatalog: lookups by conId and by description, listing by date,
// the date's hours strings and reqMatchingSymbols search. The entries
// themselves are built in catalog_entries.cpp.
#include "sim/contract_catalog.hpp"

#include "hours/time_zone.hpp"
#include "sim/catalog_entries.hpp"

#include <algorithm>
#include <cctype>

namespace sim {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return out;
}

/// An empty query field matches anything; a set one must equal (case-blind).
bool field_matches(const std::string& query, const std::string& value) {
  return query.empty() || upper(query) == upper(value);
}

bool matches(const tws::Contract& q, const CatalogEntry& e) {
  const auto& c = e.details.contract;
  if (q.symbol.empty() && q.local_symbol.empty()) return false;
  if (!field_matches(q.symbol, c.symbol) || !field_matches(q.sec_type, c.sec_type) ||
      !field_matches(q.currency, c.currency) || !field_matches(q.local_symbol, c.local_symbol) ||
      !field_matches(q.trading_class, c.trading_class))
    return false;
  // Any valid exchange routes (SMART, NASDAQ, ... for a stock).
  if (!q.exchange.empty()) {
    const std::string list = "," + e.details.valid_exchanges + ",";
    if (list.find("," + upper(q.exchange) + ",") == std::string::npos) return false;
  }
  // "202612" or "20261218" both name the December 2026 expiry.
  const auto& expiry = q.last_trade_date_or_contract_month;
  if (!expiry.empty() && c.last_trade_date_or_contract_month.rfind(expiry, 0) != 0) return false;
  return true;
}

/// Whether a word of `text` (split at anything not a letter or digit)
/// starts with `prefix` (both upper case).
bool has_word_starting_with(const std::string& text, const std::string& prefix) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool word_start = i == 0 || !std::isalnum(static_cast<unsigned char>(text[i - 1]));
    if (word_start && text.compare(i, prefix.size(), prefix) == 0) return true;
  }
  return false;
}

int class_rank(const tws::ContractDescription& d) {
  if (d.sec_type == "STK") return 0;
  if (d.sec_type == "IND") return 1;
  return 2;
}

} // namespace

ContractCatalog::ContractCatalog() : entries_(catalog::build_entries()) {
  by_con_id_.reserve(entries_.size());
  for (std::size_t i = 0; i < entries_.size(); ++i)
    by_con_id_.emplace_back(entries_[i].con_id(), i);
  std::sort(by_con_id_.begin(), by_con_id_.end());
}

const CatalogEntry* ContractCatalog::find(int con_id) const {
  auto it = std::lower_bound(by_con_id_.begin(), by_con_id_.end(),
                             std::pair<int, std::size_t>{con_id, 0});
  if (it == by_con_id_.end() || it->first != con_id) return nullptr;
  return &entries_[it->second];
}

std::int64_t ContractCatalog::local_day(const CatalogEntry& entry, std::int64_t now) {
  const auto zone = hours::TimeZone::load(entry.details.time_zone_id);
  const std::int64_t local = now + zone->offset_at(now);
  return local >= 0 ? local / 86400 : (local + 1) / 86400 - 1;
}

bool ContractCatalog::listed(const CatalogEntry& entry, std::int64_t now) const {
  if (entry.last_trading_day == 0) return true;
  const std::int64_t today = local_day(entry, now);
  if (entry.last_trading_day < today) return false; // expired
  return entry.last_trading_day <= catalog::next_quarterly_expiries(today, 4).back();
}

std::vector<const CatalogEntry*> ContractCatalog::match(const tws::Contract& query,
                                                        std::int64_t now) const {
  std::vector<const CatalogEntry*> out;
  if (query.con_id != 0) {
    if (const auto* e = find(query.con_id)) out.push_back(e);
    return out;
  }
  for (const auto& e : entries_)
    if (matches(query, e) && listed(e, now)) out.push_back(&e);
  return out;
}

const CatalogEntry* ContractCatalog::resolve(const tws::Contract& query, std::int64_t now) const {
  auto found = match(query, now);
  return found.size() == 1 ? found.front() : nullptr;
}

std::vector<tws::ContractDescription> ContractCatalog::matching_symbols(std::string_view pattern,
                                                                        std::size_t limit) const {
  struct Hit {
    int rank;
    const tws::ContractDescription* sample;
  };
  std::vector<Hit> hits;
  const std::string p = upper(pattern);
  if (p.empty()) return {};
  for (const auto& e : entries_) {
    const auto& s = e.sample;
    if (s.sec_type.empty()) continue;
    const bool by_symbol = upper(s.symbol).rfind(p, 0) == 0;
    if (!by_symbol && !has_word_starting_with(upper(s.description), p)) continue;
    hits.push_back({class_rank(s) * 2 + (by_symbol ? 0 : 1), &s});
  }
  std::stable_sort(hits.begin(), hits.end(),
                   [](const Hit& a, const Hit& b) { return a.rank < b.rank; });
  std::vector<tws::ContractDescription> out;
  for (const auto& h : hits) {
    if (out.size() >= limit) break;
    out.push_back(*h.sample);
  }
  return out;
}

std::string ContractCatalog::hours_text(const CatalogEntry& entry, HoursKind kind,
                                        std::int64_t first_day) {
  return catalog::hours_text(entry.model.asset, kind, first_day);
}

tws::ContractDetails ContractCatalog::details_at(const CatalogEntry& entry,
                                                 std::int64_t now) const {
  tws::ContractDetails d = entry.details;
  const std::int64_t day = local_day(entry, now);
  d.trading_hours = hours_text(entry, HoursKind::trading, day);
  d.liquid_hours = hours_text(entry, HoursKind::liquid, day);
  return d;
}

} // namespace sim

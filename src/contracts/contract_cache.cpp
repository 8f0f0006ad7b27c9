#include "contracts/contract_cache.hpp"

#include <boost/json.hpp>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <system_error>

namespace json = boost::json;

namespace contracts {
namespace {

std::string upper(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

json::object to_json(const tws::ContractDetails& d) {
  const auto& c = d.contract;
  json::object o;
  o["con_id"] = c.con_id;
  o["symbol"] = c.symbol;
  o["sec_type"] = c.sec_type;
  o["last_trade_date_or_contract_month"] = c.last_trade_date_or_contract_month;
  o["multiplier"] = c.multiplier;
  o["exchange"] = c.exchange;
  o["primary_exchange"] = c.primary_exchange;
  o["currency"] = c.currency;
  o["local_symbol"] = c.local_symbol;
  o["trading_class"] = c.trading_class;
  o["last_trade_time"] = d.last_trade_time;
  o["last_trade_date"] = d.last_trade_date;
  o["market_name"] = d.market_name;
  o["min_tick"] = d.min_tick;
  o["valid_exchanges"] = d.valid_exchanges;
  o["under_con_id"] = d.under_con_id;
  o["long_name"] = d.long_name;
  o["contract_month"] = d.contract_month;
  o["industry"] = d.industry;
  o["category"] = d.category;
  o["subcategory"] = d.subcategory;
  o["time_zone_id"] = d.time_zone_id;
  o["trading_hours"] = d.trading_hours;
  o["liquid_hours"] = d.liquid_hours;
  o["stock_type"] = d.stock_type;
  o["real_expiration_date"] = d.real_expiration_date;
  return o;
}

std::string str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return {};
  if (!v->is_string()) throw std::invalid_argument("field " + std::string(key) + " not a string");
  return std::string(v->as_string());
}

std::int64_t integer(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return 0;
  return v->to_number<std::int64_t>();
}

tws::ContractDetails from_json(const json::object& o) {
  tws::ContractDetails d;
  auto& c = d.contract;
  c.con_id = static_cast<int>(integer(o, "con_id"));
  c.symbol = str(o, "symbol");
  c.sec_type = str(o, "sec_type");
  c.last_trade_date_or_contract_month = str(o, "last_trade_date_or_contract_month");
  c.multiplier = str(o, "multiplier");
  c.exchange = str(o, "exchange");
  c.primary_exchange = str(o, "primary_exchange");
  c.currency = str(o, "currency");
  c.local_symbol = str(o, "local_symbol");
  c.trading_class = str(o, "trading_class");
  d.last_trade_time = str(o, "last_trade_time");
  d.last_trade_date = str(o, "last_trade_date");
  d.market_name = str(o, "market_name");
  if (const auto* v = o.if_contains("min_tick")) d.min_tick = v->to_number<double>();
  d.valid_exchanges = str(o, "valid_exchanges");
  d.under_con_id = static_cast<int>(integer(o, "under_con_id"));
  d.long_name = str(o, "long_name");
  d.contract_month = str(o, "contract_month");
  d.industry = str(o, "industry");
  d.category = str(o, "category");
  d.subcategory = str(o, "subcategory");
  d.time_zone_id = str(o, "time_zone_id");
  d.trading_hours = str(o, "trading_hours");
  d.liquid_hours = str(o, "liquid_hours");
  d.stock_type = str(o, "stock_type");
  d.real_expiration_date = str(o, "real_expiration_date");
  if (c.con_id <= 0) throw std::invalid_argument("a contract without a con_id");
  return d;
}

} // namespace

std::string ContractCache::search_key(const tws::Contract& q) {
  return upper(q.symbol) + "|" + upper(q.sec_type) + "|" + upper(q.exchange) + "|" +
         upper(q.currency) + "|" + q.last_trade_date_or_contract_month +
         (q.local_symbol.empty() ? "" : "|" + upper(q.local_symbol));
}

const ContractCache::Details* ContractCache::details(int con_id) const {
  auto it = details_.find(con_id);
  return it == details_.end() ? nullptr : &it->second;
}

void ContractCache::put_details(const tws::ContractDetails& d, std::int64_t fetched) {
  details_[d.contract.con_id] = Details{d, fetched};
}

std::optional<ContractCache::Search> ContractCache::search(const std::string& key) const {
  auto it = searches_.find(key);
  if (it == searches_.end()) return std::nullopt;
  for (int id : it->second.con_ids)
    if (!details(id)) return std::nullopt;
  return it->second;
}

void ContractCache::put_search(const std::string& key,
                               const std::vector<tws::ContractDetails>& found,
                               std::int64_t fetched) {
  Search s;
  s.fetched = fetched;
  for (const auto& d : found) {
    s.con_ids.push_back(d.contract.con_id);
    put_details(d, fetched);
  }
  searches_[key] = std::move(s);
}

std::optional<std::string> ContractCache::load(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  try {
    const json::value v = json::parse(text.str());
    const auto& root = v.as_object();
    if (integer(root, "version") != 1) throw std::invalid_argument("unknown version");
    std::map<int, Details> details;
    std::map<std::string, Search> searches;
    if (const auto* cs = root.if_contains("contracts")) {
      for (const auto& [key, entry] : cs->as_object()) {
        const auto& e = entry.as_object();
        auto d = from_json(e.at("details").as_object());
        const int id = d.contract.con_id;
        details[id] = Details{std::move(d), integer(e, "fetched")};
      }
    }
    if (const auto* ss = root.if_contains("searches")) {
      for (const auto& [key, entry] : ss->as_object()) {
        const auto& e = entry.as_object();
        Search s;
        s.fetched = integer(e, "fetched");
        for (const auto& id : e.at("contract_ids").as_array())
          s.con_ids.push_back(static_cast<int>(id.to_number<std::int64_t>()));
        searches[std::string(key)] = std::move(s);
      }
    }
    details_ = std::move(details);
    searches_ = std::move(searches);
    return std::nullopt;
  } catch (const std::exception& e) {
    auto bad = file;
    bad += ".bad";
    std::filesystem::rename(file, bad, ec);
    return "the contract cache " + file.string() + " could not be read (" + e.what() +
           "): set aside as " + bad.string() + ", starting empty";
  }
}

std::optional<std::string> ContractCache::save(const std::filesystem::path& file) const {
  json::object root;
  root["version"] = 1;
  json::object cs;
  for (const auto& [id, e] : details_) {
    json::object entry;
    entry["fetched"] = e.fetched;
    entry["details"] = to_json(e.details);
    cs[std::to_string(id)] = std::move(entry);
  }
  root["contracts"] = std::move(cs);
  json::object ss;
  for (const auto& [key, s] : searches_) {
    json::object entry;
    entry["fetched"] = s.fetched;
    json::array ids;
    for (int id : s.con_ids) ids.push_back(id);
    entry["contract_ids"] = std::move(ids);
    ss[key] = std::move(entry);
  }
  root["searches"] = std::move(ss);
  const std::string text = json::serialize(root);
  auto tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text << '\n';
    out.flush();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      return "could not write " + tmp.string();
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) return "could not replace " + file.string() + ": " + ec.message();
  return std::nullopt;
}

std::string details_to_cache_json(const tws::ContractDetails& d) {
  return json::serialize(to_json(d));
}

json::object details_to_json(const tws::ContractDetails& d) { return to_json(d); }

tws::ContractDetails details_from_json(const json::object& o) { return from_json(o); }

} // namespace contracts

#include "record/tracked.hpp"

#include "contracts/contract_spec.hpp"

#include <boost/json.hpp>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace record {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

} // namespace

std::optional<std::set<tws::TickType>> parse_tick_type_list(std::string_view list,
                                                            std::string& error) {
  std::set<tws::TickType> out;
  std::size_t from = 0;
  while (from <= list.size()) {
    const auto comma = list.find(',', from);
    const auto part =
        trim(list.substr(from, comma == std::string_view::npos ? list.npos : comma - from));
    if (part.empty()) {
      error = "empty tick type in '" + std::string(list) +
              "' (tick types are Last, AllLast, BidAsk, MidPoint, separated by ',')";
      return std::nullopt;
    }
    const auto t = tws::parse_tick_type_nocase(part);
    if (!t) {
      error =
          "unknown tick type '" + std::string(part) + "' (valid: Last, AllLast, BidAsk, MidPoint)";
      return std::nullopt;
    }
    out.insert(*t);
    if (comma == std::string_view::npos) break;
    from = comma + 1;
  }
  return out;
}

std::optional<TrackedSet> parse_track_spec(std::string_view spec, std::string& error,
                                           TrackedSpecs* specs) {
  TrackedSet out;
  std::size_t from = 0;
  while (from < spec.size()) {
    auto semi = spec.find(';', from);
    if (semi == std::string_view::npos) semi = spec.size();
    const auto entry = trim(spec.substr(from, semi - from));
    from = semi + 1;
    if (entry.empty()) continue; // "a;;b" and a trailing ';' are harmless
    // The tick types follow the last ':' (a spec has ':' of its own).
    const auto colon = entry.rfind(':');
    if (colon == std::string_view::npos) {
      error = "'" + std::string(entry) +
              "' has no tick types: write CONTRACT:TICK_TYPE[,TICK_TYPE...], e.g. "
              "265598:BidAsk,Last or ES:FUT:CME:USD:202703:Last";
      return std::nullopt;
    }
    const auto contract_text = trim(entry.substr(0, colon));
    std::string ref_error;
    const auto ref = contracts::parse_contract_ref(contract_text, ref_error);
    if (!ref) {
      error = "'" + std::string(contract_text) + "' in '" + std::string(entry) +
              "' is not a contract: " + ref_error;
      return std::nullopt;
    }
    if (!ref->is_id() && !specs) {
      error = "'" + std::string(contract_text) + "' in '" + std::string(entry) +
              "' is not a contract id (a positive integer, the IB conId)";
      return std::nullopt;
    }
    auto types = parse_tick_type_list(entry.substr(colon + 1), error);
    if (!types) {
      error = "contract " + ref->text() + ": " + error +
              " (write CONTRACT:TICK_TYPE[,TICK_TYPE...], e.g. ES:FUT:CME:USD:202703:Last)";
      return std::nullopt;
    }
    if (ref->is_id()) out[ref->con_id].insert(types->begin(), types->end());
    else (*specs)[ref->text()].insert(types->begin(), types->end());
  }
  return out;
}

std::string format_track_spec(const TrackedSet& set) {
  std::string out;
  for (const auto& [con_id, types] : set) {
    if (!out.empty()) out += ';';
    out += std::to_string(con_id) + ':';
    bool first = true;
    for (auto t : types) {
      if (!first) out += ',';
      first = false;
      out += tws::to_string(t);
    }
  }
  return out;
}

TrackedFile::TrackedFile(std::filesystem::path dir) : path_(std::move(dir) / "tracked.json") {}

TrackedSet TrackedFile::load() const {
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) return {};
  std::ifstream in(path_);
  if (!in) throw std::runtime_error(path_.string() + ": cannot read: " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  TrackedSet out;
  try {
    const auto doc = boost::json::parse(ss.str());
    for (const auto& v : doc.at("tracked").as_array()) {
      const auto& o = v.as_object();
      const auto con_id = static_cast<int>(o.at("contract_id").to_number<std::int64_t>());
      if (con_id <= 0) throw std::invalid_argument("contract_id must be positive");
      for (const auto& t : o.at("tick_types").as_array()) {
        const auto type = tws::parse_tick_type(t.as_string());
        if (!type) throw std::invalid_argument("unknown tick type");
        out[con_id].insert(*type);
      }
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(path_.string() + ": not a tracked-streams file (" + e.what() +
                             "); fix or remove it");
  }
  return out;
}

std::string TrackedFile::save(const TrackedSet& set) const {
  boost::json::array list;
  for (const auto& [con_id, types] : set) {
    boost::json::array names;
    for (auto t : types) names.emplace_back(tws::to_string(t));
    list.push_back(boost::json::object{{"contract_id", con_id}, {"tick_types", std::move(names)}});
  }
  const auto text = boost::json::serialize(boost::json::object{{"tracked", std::move(list)}});
  const auto tmp = path_.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text << '\n';
    out.flush();
    if (!out) return tmp + ": cannot write: " + std::strerror(errno);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path_, ec);
  if (ec) return path_.string() + ": cannot replace: " + ec.message();
  return {};
}

} // namespace record

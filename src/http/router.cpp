#include "http/router.hpp"

#include "www/web_assets.hpp"

#include <boost/url/parse.hpp>

#include <vector>

namespace http {
namespace {

constexpr std::string_view kGet = "GET, OPTIONS";

Route with(Route r, std::string_view method, std::string_view allow, Endpoint get,
           Endpoint del = Endpoint::bad_method, Endpoint post = Endpoint::bad_method) {
  r.allow = allow;
  if (method == "OPTIONS") r.endpoint = Endpoint::preflight;
  else if (method == "GET" && allow.find("GET") != std::string_view::npos) r.endpoint = get;
  else if (method == "DELETE" && allow.find("DELETE") != std::string_view::npos) r.endpoint = del;
  else if (method == "POST" && allow.find("POST") != std::string_view::npos) r.endpoint = post;
  else r.endpoint = Endpoint::bad_method;
  return r;
}

} // namespace

Route route_request(std::string_view method, std::string_view target) {
  Route r;
  auto url = boost::urls::parse_origin_form(target);
  if (!url) {
    r.endpoint = Endpoint::bad_target;
    r.path = std::string(target.substr(0, target.find('?')));
    return r;
  }
  r.path = url->path();
  r.query = std::string(url->encoded_query());
  if (www::find_web_asset(r.path)) return with(std::move(r), method, kGet, Endpoint::web_asset);
  std::vector<std::string> seg;
  for (auto s : url->segments()) seg.push_back(s);

  if (seg.empty()) return with(std::move(r), method, kGet, Endpoint::root);
  if (seg.size() == 1 && seg[0] == "health")
    return with(std::move(r), method, kGet, Endpoint::health);
  if (seg.size() == 1 && seg[0] == "ready")
    return with(std::move(r), method, kGet, Endpoint::ready);
  if (seg.size() == 1 && seg[0] == "metrics")
    return with(std::move(r), method, kGet, Endpoint::metrics);
  if (seg[0] == "ws") {
    if (seg.size() == 2 && seg[1] == "stats")
      return with(std::move(r), method, kGet, Endpoint::ws_stats);
    if (seg.size() == 2 && seg[1] == "schemas")
      return with(std::move(r), method, kGet, Endpoint::ws_schemas);
    if (seg.size() == 2 && seg[1] == "control")
      return with(std::move(r), method, kGet, Endpoint::ws_control);
    if (seg.size() == 4 && seg[1] == "stream") {
      r.contract_segment = seg[2];
      r.tick_type = seg[3];
      return with(std::move(r), method, kGet, Endpoint::ws_stream);
    }
    r.endpoint = Endpoint::not_found;
    return r;
  }
  if (seg[0] == "history" && (seg.size() == 2 || seg.size() == 3)) {
    r.contract_segment = seg[1];
    if (seg.size() == 2) return with(std::move(r), method, kGet, Endpoint::history_summary);
    r.tick_type = seg[2];
    return with(std::move(r), method, kGet, Endpoint::history);
  }
  if (seg[0] == "tracked" && seg.size() == 1)
    return with(std::move(r), method, kGet, Endpoint::tracked);
  if (seg[0] == "tracked" && seg.size() == 2) {
    r.contract_segment = seg[1];
    return with(std::move(r), method, "POST, DELETE, OPTIONS", Endpoint::bad_method,
                Endpoint::untrack, Endpoint::track);
  }
  if (seg[0] == "contracts" && seg.size() == 2) {
    if (seg[1] == "search") return with(std::move(r), method, kGet, Endpoint::contract_search);
    r.contract_segment = seg[1];
    return with(std::move(r), method, kGet, Endpoint::contract);
  }
  if (seg[0] == "contracts" && seg.size() == 3 && seg[2] == "status") {
    r.contract_segment = seg[1];
    return with(std::move(r), method, kGet, Endpoint::contract_status);
  }
  if (seg[0] == "studies" && seg.size() == 3 && seg[2] == "delta") {
    r.contract_segment = seg[1];
    return with(std::move(r), method, kGet, Endpoint::study_delta);
  }
  if (seg[0] == "replay" && seg.size() == 2) {
    r.contract_segment = seg[1];
    return with(std::move(r), method, kGet, Endpoint::replay);
  }
  if (seg[0] != "stream" || seg.size() < 2 || seg.size() > 3) {
    r.endpoint = Endpoint::not_found;
    return r;
  }
  if (seg.size() == 2) {
    if (seg[1] == "info") return with(std::move(r), method, kGet, Endpoint::stream_info);
    if (seg[1] == "active") return with(std::move(r), method, kGet, Endpoint::stream_active);
    if (seg[1] == "all")
      return with(std::move(r), method, "DELETE, OPTIONS", Endpoint::bad_method,
                  Endpoint::stop_all);
    r.contract_segment = seg[1];
    return with(std::move(r), method, "GET, DELETE, OPTIONS", Endpoint::stream,
                Endpoint::stop_contract);
  }
  r.contract_segment = seg[1];
  r.tick_type = seg[2];
  return with(std::move(r), method, kGet, Endpoint::stream);
}

} // namespace http

#include "sim/request_log.hpp"

#include "stream/tick_json.hpp"

#include <stdexcept>
#include <variant>

namespace sim {

RequestLog::RequestLog(const std::string& path) {
  if (path.empty()) {
    file_ = stdout;
    return;
  }
  file_ = std::fopen(path.c_str(), "w");
  if (file_ == nullptr) throw std::runtime_error("cannot open request log " + path);
  owned_ = true;
}

RequestLog::~RequestLog() {
  if (owned_ && file_ != nullptr) std::fclose(file_);
}

std::string RequestLog::message_name(int msg_id) {
  switch (static_cast<tws::OutId>(msg_id)) {
  case tws::OutId::start_api: return "startApi";
  case tws::OutId::req_ids: return "reqIds";
  case tws::OutId::req_current_time: return "reqCurrentTime";
  case tws::OutId::req_managed_accts: return "reqManagedAccts";
  case tws::OutId::req_market_data_type: return "reqMarketDataType";
  case tws::OutId::req_contract_data: return "reqContractDetails";
  case tws::OutId::req_tick_by_tick_data: return "reqTickByTickData";
  case tws::OutId::cancel_tick_by_tick_data: return "cancelTickByTickData";
  default: return "other:" + std::to_string(msg_id);
  }
}

void RequestLog::record(std::optional<int> client_id, const tws::DecodedRequest& request,
                        bool dropped) {
  std::string line = "{\"event\":\"request\",\"client_id\":";
  const auto* start = std::get_if<tws::StartApi>(&request.request);
  if (start != nullptr && !request.error) line += std::to_string(start->client_id);
  else if (client_id) line += std::to_string(*client_id);
  else line += "null";
  line += ",\"msg\":";
  stream::append_json_string(line, message_name(request.msg_id));
  auto field = [&line](const char* name, long long v) {
    line += ",\"";
    line += name;
    line += "\":";
    line += std::to_string(v);
  };
  if (!request.error) {
    if (const auto* m = std::get_if<tws::ReqTickByTickData>(&request.request)) {
      field("req_id", m->req_id);
      field("con_id", m->contract.con_id);
      if (!m->contract.symbol.empty()) {
        line += ",\"symbol\":";
        stream::append_json_string(line, m->contract.symbol);
      }
      line += ",\"tick_type\":";
      stream::append_json_string(line, m->tick_type);
    } else if (const auto* m = std::get_if<tws::CancelTickByTickData>(&request.request)) {
      field("req_id", m->req_id);
    } else if (const auto* m = std::get_if<tws::ReqContractDetails>(&request.request)) {
      field("req_id", m->req_id);
      field("con_id", m->contract.con_id);
      if (!m->contract.symbol.empty()) {
        line += ",\"symbol\":";
        stream::append_json_string(line, m->contract.symbol);
      }
    } else if (const auto* m = std::get_if<tws::ReqMarketDataType>(&request.request)) {
      field("market_data_type", m->market_data_type);
    }
  } else {
    line += ",\"malformed\":true,\"error\":";
    stream::append_json_string(line, request.error.message());
  }
  if (dropped) line += ",\"dropped\":true";
  line += "}\n";
  std::fputs(line.c_str(), file_);
  std::fflush(file_);
}

} // namespace sim

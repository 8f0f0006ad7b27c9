#include "sim/request_log.hpp"

#include "stream/json_writer.hpp"

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
  case tws::OutId::req_historical_ticks: return "reqHistoricalTicks";
  case tws::OutId::req_matching_symbols: return "reqMatchingSymbols";
  default: return "other:" + std::to_string(msg_id);
  }
}

void RequestLog::record(std::optional<int> client_id, const tws::DecodedRequest& request,
                        bool dropped) {
  std::string line;
  {
    stream::JsonWriter w(line);
    w.begin_object().member("event", "request").key("client_id");
    const auto* start = std::get_if<tws::StartApi>(&request.request);
    if (start != nullptr && !request.error) w.integer(start->client_id);
    else if (client_id) w.integer(*client_id);
    else w.null();
    w.member("msg", message_name(request.msg_id));
    const auto symbol = [&w](const std::string& s) {
      if (!s.empty()) w.member("symbol", s);
    };
    if (!request.error) {
      if (const auto* m = std::get_if<tws::ReqTickByTickData>(&request.request)) {
        w.member("req_id", m->req_id).member("con_id", m->contract.con_id);
        symbol(m->contract.symbol);
        w.member("tick_type", m->tick_type);
      } else if (const auto* m = std::get_if<tws::CancelTickByTickData>(&request.request)) {
        w.member("req_id", m->req_id);
      } else if (const auto* m = std::get_if<tws::ReqContractDetails>(&request.request)) {
        const auto& c = m->contract;
        w.member("req_id", m->req_id).member("con_id", c.con_id);
        symbol(c.symbol);
        const auto set = [&w](const char* name, const std::string& s) {
          if (!s.empty()) w.member(name, s);
        };
        set("sec_type", c.sec_type);
        set("exchange", c.exchange);
        set("currency", c.currency);
        set("expiry", c.last_trade_date_or_contract_month);
        set("local_symbol", c.local_symbol);
      } else if (const auto* m = std::get_if<tws::ReqMatchingSymbols>(&request.request)) {
        w.member("req_id", m->req_id).member("pattern", m->pattern);
      } else if (const auto* m = std::get_if<tws::ReqHistoricalTicks>(&request.request)) {
        w.member("req_id", m->req_id).member("con_id", m->contract.con_id);
        symbol(m->contract.symbol);
        w.member("what_to_show", m->what_to_show)
            .member("start", m->start_date_time)
            .member("end", m->end_date_time)
            .member("count", m->number_of_ticks)
            .member("use_rth", m->use_rth)
            .member("ignore_size", m->ignore_size);
      } else if (const auto* m = std::get_if<tws::ReqMarketDataType>(&request.request)) {
        w.member("market_data_type", m->market_data_type);
      }
    } else {
      w.member("malformed", true).member("error", request.error.message());
    }
    if (dropped) w.member("dropped", true);
    w.end_object();
  }
  line += '\n';
  std::fputs(line.c_str(), file_);
  std::fflush(file_);
}

} // namespace sim

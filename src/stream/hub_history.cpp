// stream::Hub: historical ticks (reqHistoricalTicks) for the recorder's
// backfill, through the Hub's TWS connection and contract cache.
#include "stream/hub_impl.hpp"

#include <boost/asio/post.hpp>

namespace asio = boost::asio;

namespace stream {

void Hub::historical_ticks(int con_id, tws::HistoricalTicksRequest request,
                           tws::Client::HistoricalTicksHandler done) {
  asio::post(impl_->strand_, [impl = impl_, con_id, request = std::move(request),
                              done = std::move(done)]() mutable {
    impl->historical_ticks(con_id, std::move(request), std::move(done));
  });
}

void Hub::Impl::historical_ticks(int con_id, tws::HistoricalTicksRequest request,
                                 tws::Client::HistoricalTicksHandler done) {
  if (!connected() || shutting_down_ || remote()) {
    done(make_error_code(tws::ClientError::not_connected), nullptr, {});
    return;
  }
  const auto send = [this](const tws::ContractDetails& d, tws::HistoricalTicksRequest req,
                           tws::Client::HistoricalTicksHandler cb) {
    req.contract = d.contract;
    client_->request_historical_ticks(req, std::move(cb));
  };
  if (auto it = contract_cache_.find(con_id); it != contract_cache_.end()) {
    send(it->second, std::move(request), std::move(done));
    return;
  }
  client_->request_contract_details(
      con_id, [self = shared_from_this(), con_id, gen = client_generation_, send,
               request = std::move(request),
               done = std::move(done)](std::error_code ec, const tws::ErrorMessage* err,
                                       std::vector<tws::ContractDetails> details) mutable {
        if (gen != self->client_generation_ || !self->connected()) {
          done(make_error_code(tws::ClientError::connection_lost), nullptr, {});
          return;
        }
        if (ec || details.empty()) {
          done(ec ? ec : make_error_code(tws::ClientError::request_failed), err, {});
          return;
        }
        const auto& d = self->contract_cache_[con_id] = std::move(details.front());
        send(d, std::move(request), std::move(done));
      });
}

} // namespace stream

// stream::Hub: contract lookups (reqContractDetails by description,
// reqMatchingSymbols) through the Hub's TWS connection, for src/contracts.
#include "stream/hub_impl.hpp"

#include <boost/asio/post.hpp>

namespace asio = boost::asio;

namespace stream {

void Hub::contract_details(tws::Contract query, tws::Client::DetailsHandler done) {
  asio::post(impl_->strand_,
             [impl = impl_, query = std::move(query), done = std::move(done)]() mutable {
               if (!impl->connected() || impl->shutting_down_) {
                 done(make_error_code(tws::ClientError::not_connected), nullptr, {});
                 return;
               }
               impl->client_->request_contract_details(query, std::move(done));
             });
}

void Hub::remember_contracts(std::vector<tws::ContractDetails> details) {
  asio::post(impl_->strand_, [impl = impl_, details = std::move(details)]() mutable {
    for (auto& d : details) {
      const int id = d.contract.con_id;
      if (id > 0) impl->contract_cache_[id] = std::move(d);
    }
  });
}

void Hub::matching_symbols(std::string pattern, tws::Client::SymbolSamplesHandler done) {
  asio::post(impl_->strand_,
             [impl = impl_, pattern = std::move(pattern), done = std::move(done)]() mutable {
               if (!impl->connected() || impl->shutting_down_) {
                 done(make_error_code(tws::ClientError::not_connected), nullptr, {});
                 return;
               }
               impl->client_->request_matching_symbols(pattern, std::move(done));
             });
}

} // namespace stream

// stream::Hub: contract lookups (reqContractDetails by description,
// reqMatchingSymbols) through the Hub's TWS connection, for src/contracts.
#include "stream/hub_impl.hpp"

#include <boost/asio/post.hpp>

namespace asio = boost::asio;

namespace stream {

void Hub::contract_details(tws::Contract query, tws::Client::DetailsHandler done) {
  asio::post(impl_->strand_, [impl = impl_, query = std::move(query),
                              done = std::move(done)]() mutable {
    if (!impl->connected() || impl->shutting_down_) {
      done(make_error_code(tws::ClientError::not_connected), nullptr, {});
      return;
    }
    if (impl->remote()) {
      // An edge: the publisher asks its TWS.
      impl->cfg_.remote->contract_details(
          std::move(query),
          [impl, done = std::move(done)](std::error_code ec, std::optional<tws::ErrorMessage> e,
                                         std::vector<tws::ContractDetails> d) mutable {
            asio::post(impl->strand_,
                       [done = std::move(done), ec, e = std::move(e), d = std::move(d)]() mutable {
                         done(ec, e ? &*e : nullptr, std::move(d));
                       });
          });
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
  asio::post(impl_->strand_, [impl = impl_, pattern = std::move(pattern),
                              done = std::move(done)]() mutable {
    if (!impl->connected() || impl->shutting_down_) {
      done(make_error_code(tws::ClientError::not_connected), nullptr, {});
      return;
    }
    if (impl->remote()) {
      impl->cfg_.remote->matching_symbols(
          std::move(pattern),
          [impl, done = std::move(done)](std::error_code ec, std::optional<tws::ErrorMessage> e,
                                         std::vector<tws::ContractDescription> d) mutable {
            asio::post(impl->strand_,
                       [done = std::move(done), ec, e = std::move(e), d = std::move(d)]() mutable {
                         done(ec, e ? &*e : nullptr, std::move(d));
                       });
          });
      return;
    }
    impl->client_->request_matching_symbols(pattern, std::move(done));
  });
}

} // namespace stream

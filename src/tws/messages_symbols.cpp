// reqMatchingSymbols (81, tws-protocol.md §10.8) and its answer
// SYMBOL_SAMPLES (79, §10.9): encoders both ways and the bodies' decoders
// (called from messages_decode.cpp). Neither message has a version field.
//
// Thread-safety: pure functions.
#include "tws/messages.hpp"
#include "tws/messages_detail.hpp"

namespace tws {

std::string encode(const ReqMatchingSymbols& m) {
  FieldWriter w;
  w.add_int(static_cast<int>(OutId::req_matching_symbols)).add_int(m.req_id).add(m.pattern);
  return w.finish();
}

std::string encode(const SymbolSamples& m, int server_version) {
  FieldWriter w;
  w.add_int(static_cast<int>(InId::symbol_samples))
      .add_int(m.req_id)
      .add_int(static_cast<std::int64_t>(m.descriptions.size()));
  for (const auto& d : m.descriptions) {
    w.add_int(d.con_id)
        .add(d.symbol)
        .add(d.sec_type)
        .add(d.primary_exchange)
        .add(d.currency)
        .add_int(static_cast<std::int64_t>(d.derivative_sec_types.size()));
    for (const auto& t : d.derivative_sec_types) w.add(t);
    // Inside each description, after its derivative list (§10.9).
    if (server_version >= sv::kBondIssuerId) w.add(d.description).add(d.issuer_id);
  }
  return w.finish();
}

namespace detail {

void decode_body(FieldReader& r, ReqMatchingSymbols& m) {
  m.req_id = r.i32();
  m.pattern = r.str();
}

void decode_body(FieldReader& r, int server_version, SymbolSamples& m) {
  m.req_id = r.i32();
  // A description has at least 6 fields (8 at >= 176): a hostile count
  // fails here instead of allocating.
  const std::size_t min_fields = server_version >= sv::kBondIssuerId ? 8 : 6;
  const int n = r.i32();
  if (!r.ok() || n <= 0) return; // IB's decoders read <= 0 as none
  if (static_cast<std::size_t>(n) * min_fields > r.remaining()) {
    r.fail(WireError::missing_field);
    return;
  }
  m.descriptions.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n && r.ok(); ++i) {
    ContractDescription d;
    d.con_id = r.i32();
    d.symbol = r.str();
    d.sec_type = r.str();
    d.primary_exchange = r.str();
    d.currency = r.str();
    const int types = r.i32();
    if (types > 0 && static_cast<std::size_t>(types) > r.remaining()) {
      r.fail(WireError::missing_field);
      return;
    }
    for (int t = 0; t < types && r.ok(); ++t) d.derivative_sec_types.emplace_back(r.str());
    if (server_version >= sv::kBondIssuerId) {
      d.description = r.str();
      d.issuer_id = r.str();
    }
    m.descriptions.push_back(std::move(d));
  }
}

} // namespace detail
} // namespace tws

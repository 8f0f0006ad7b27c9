// Private to src/tws: decoders of single message bodies kept in their own
// files (messages_symbols.cpp), called from the switches of
// messages_decode.cpp. `r` stands after the message id.
//
// Thread-safety: pure functions.
#pragma once

#include "tws/messages.hpp"

namespace tws::detail {

/// reqMatchingSymbols (81) after its id: reqId, pattern.
void decode_body(FieldReader& r, ReqMatchingSymbols& m);
/// SYMBOL_SAMPLES (79) after its id (§10.9).
void decode_body(FieldReader& r, int server_version, SymbolSamples& m);

} // namespace tws::detail

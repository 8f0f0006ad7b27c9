// Shared permessage-deflate (RFC 7692) for tick messages.
//
// A tick message is the subscription's prefix + the tick's shared suffix
// (ws::ws_tick_parts). Compressed per client, the suffix would be deflated
// once per client per tick; instead it is deflated once per tick, on its
// own (no reference to earlier data), and every client's message is
//   [stored block: the client's prefix][the shared deflated suffix]
// - a valid DEFLATE stream whichever context the client's inflater keeps
// from earlier messages, since nothing in it refers back. The suffix ends
// with a sync flush whose final 00 00 FF FF is removed, as RFC 7692 §7.2.1
// asks; the receiver appends it again.
#pragma once

#include <string>
#include <string_view>

namespace stream {

/// Raw DEFLATE of `bytes` with no history, ending in a sync flush without
/// its trailing 00 00 FF FF.
std::string deflate_message_part(std::string_view bytes);

/// Appends `bytes` (at most 65535) as one non-final stored DEFLATE block;
/// it starts and ends on a byte boundary.
void append_stored_block(std::string& out, std::string_view bytes);

} // namespace stream

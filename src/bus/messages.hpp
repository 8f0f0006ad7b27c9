// The scale-out control messages on NATS, as JSON: what publishers and
// edges say to each other besides the ticks (docs/scale-out.md lists the
// subjects). Encoders and parsers side by side, so that both ends agree;
// a parser given anything else returns nullopt (a malformed message from
// the bus is logged and dropped, never trusted).
//
// Pure functions; thread-safe.
#pragma once

#include "stream/hub.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

namespace bus {

using StreamKey = std::pair<int, tws::TickType>;

/// `ibs.ctl.open`: {"con_id":265598,"tick_type":"Last","edge":"edge-1"}
struct OpenRequestMsg {
  int con_id = 0;
  tws::TickType tick_type = tws::TickType::last;
  std::string edge;
};
std::string encode(const OpenRequestMsg& m);
/// nullopt: not an open request; an error text names what is wrong.
std::variant<OpenRequestMsg, std::string> parse_open_request(std::string_view text);

/// The reply: {"ok":true,"last_seq":N,"con_id":N,"contract":{symbol, ...}} or
/// {"ok":false,"error":{"status","code","message","details","retry_after"}}.
std::string encode_opened(std::uint64_t last_seq, const stream::ContractInfo& c);
std::string encode_open_error(const stream::OpenError& e);
std::optional<std::variant<stream::RemoteOpened, stream::OpenError>>
parse_open_reply(std::string_view text);

/// `ibs.events.<contract>.<type>`: {"kind":"notice"|"ended","seq":N,
/// "error":bool,"code","message","details","next_open","period"}
std::string encode_event(const stream::RemoteEvent& e);
std::optional<stream::RemoteEvent> parse_event(std::string_view text);

/// `ibs.ctl.keep`: {"edge":"edge-1","streams":["265598:Last",...]};
/// `ibs.ctl.release`: the same with one stream.
struct KeepMsg {
  std::string edge;
  std::vector<StreamKey> streams;
};
std::string encode(const KeepMsg& m);
std::optional<KeepMsg> parse_keep(std::string_view text);

/// `ibs.status`: {"publisher":name,"tws":{"connected","host","port",
/// "client_id","server_version","connected_since"}}
std::string encode_status(const std::string& publisher, const stream::HubSnapshot::Tws& tws);
/// Fills the publisher and TWS fields of `out`; false when malformed.
bool parse_status(std::string_view text, stream::RemoteStatus& out);

/// Contract lookups through the publisher: `ibs.ctl.details`
/// {"contract":{con_id, symbol, sec_type, ...}} and `ibs.ctl.symbols`
/// {"pattern":"appl"}; the replies {"error":<tws::ClientError value, 0 =
/// ok>,"tws_error":null|{"id","code","text"},"details"|"samples":[...]}.
struct LookupReply {
  std::error_code error;
  std::optional<tws::ErrorMessage> tws_error;
};
std::string encode_details_request(const tws::Contract& query);
std::optional<tws::Contract> parse_details_request(std::string_view text);
std::string encode_details_reply(std::error_code ec, const tws::ErrorMessage* e,
                                 const std::vector<tws::ContractDetails>& details);
std::optional<std::pair<LookupReply, std::vector<tws::ContractDetails>>>
parse_details_reply(std::string_view text);
std::string encode_symbols_request(const std::string& pattern);
std::optional<std::string> parse_symbols_request(std::string_view text);
std::string encode_symbols_reply(std::error_code ec, const tws::ErrorMessage* e,
                                 const std::vector<tws::ContractDescription>& samples);
std::optional<std::pair<LookupReply, std::vector<tws::ContractDescription>>>
parse_symbols_reply(std::string_view text);

/// `ibs.ctl.http` / `ibs.ctl.http.next`: a GET forwarded to the publisher
/// (`target`, the client's `origin`), and the next piece of transfer `id`.
/// The replies: the raw bytes of its HTTP response, header `Ibs-Last` on the
/// last piece, `Ibs-Error` instead when it failed.
struct ForwardRequestMsg {
  std::string id;
  std::string target; // empty: the next piece
  std::string origin;
};
std::string encode_forward_request(const ForwardRequestMsg& m);
std::optional<ForwardRequestMsg> parse_forward_request(std::string_view text);

/// "265598:Last" <-> {265598, last}
std::string stream_label(const StreamKey& k);
std::optional<StreamKey> parse_stream_label(std::string_view s);

} // namespace bus

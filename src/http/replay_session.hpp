// GET /replay/{contract_id}: the recorded ticks of one or more tick types
// as a Server-Sent Events stream (the framing and headers of the stream
// endpoints, api.md §3), interleaved in time order (IB time, then receive
// time, then the order of `tick_types`), at the recorded pace divided by
// `speed` or, with speed=max, as fast as the socket takes them.
//
// Events: `info` (the replay: range, tick types, speed), a `tick` per
// recorded tick (`data` = the tick object + seq + source, `timestamp` = when
// it was sent), then `complete` with reason `replay_end` (or `shutdown`)
// and total_ticks.
//
// The ticks are read by HistoryWorkers in pieces (a few hundred per task,
// merged from one page per tick type); a piece is asked for when the
// session has few ticks left, and is released to the socket when due. One
// write in flight; at most one piece waiting: memory stays flat.
//
// Thread-safety: as RecordSession (history_session.hpp).
#pragma once

#include "http/history_session.hpp"

namespace http {

void start_replay_session(boost::beast::tcp_stream stream, std::shared_ptr<ServerState> state,
                          RecordSession::Request request, ReplayRequest replay);

} // namespace http

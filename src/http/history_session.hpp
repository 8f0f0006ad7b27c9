// The sessions that answer from the record (README "Recording and
// history"), on a socket handed over by HttpSession after the request was
// validated:
// - RecordSession: what history and replay responses share: the socket,
//   one write in flight, the client's close seen by a pending read (which
//   cancels the query), the end (send side shut, short linger, close), the
//   access log, the worker slot and the drain counter.
// - HistorySession: GET /history/{contract_id}/{tick_type}: a chunked
//   body (json, ndjson or csv) read from the store by HistoryWorkers in
//   pieces of about 64 KiB; the next piece is read while the socket takes
//   the previous one, never more (memory stays flat, a slow reader only
//   waits for itself).
// - start_history_summary(): GET /history/{contract_id}, one JSON answer.
//
// Thread-safety: a session runs on its socket's event loop; its producer
// (the reading state) is used by one worker task at a time, handed over by
// posts; only its `cancelled` flag is shared (atomic).
#pragma once

#include "http/history_params.hpp"
#include "http/response.hpp"
#include "http/server_state.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace http {

/// About this much output is read from the store per worker task.
inline constexpr std::size_t kRecordPieceBytes = 64 * 1024;

class RecordSession : public std::enable_shared_from_this<RecordSession> {
public:
  /// The request as HttpSession validated and logs it.
  struct Request {
    std::optional<std::string> origin;
    std::string remote;
    std::string method;
    std::string path;
    std::string query; // redacted
    std::chrono::steady_clock::time_point received;
  };

  /// Takes a HistoryWorkers slot that the caller admitted; gives it back
  /// when destroyed.
  RecordSession(boost::beast::tcp_stream stream, std::shared_ptr<ServerState> state,
                Request request);
  virtual ~RecordSession();
  RecordSession(const RecordSession&) = delete;
  RecordSession& operator=(const RecordSession&) = delete;

  virtual void start() = 0;

protected:
  /// The response head: status line, Content-Type, CORS, Connection: close,
  /// `extra` header lines (each "Name: value\r\n"), blank line.
  std::string head(int status, std::string_view content_type, std::string_view extra) const;
  /// Answers `error` as a whole response, then closes.
  void respond_error(const ApiError& error, std::string_view retry_after = {});
  void log(int status, std::string_view note) const;

  /// Starts the read that notices the client closing (on_client_gone).
  void watch_client();
  /// Writes `bytes` (nothing may be in flight); on_written() when taken.
  void write(std::string bytes);
  bool write_pending() const { return write_pending_; }
  /// Everything is written: shut the send side, linger briefly, close.
  void finish();
  /// Closes the socket at once (an error, a client that went).
  void close_now();
  bool closed() const { return closed_; }

  virtual void on_written() = 0;
  virtual void on_client_gone() = 0;

  boost::beast::tcp_stream stream_;
  const boost::asio::any_io_executor executor_;
  std::shared_ptr<ServerState> state_;
  Request request_;

private:
  void on_read(boost::system::error_code ec);

  boost::asio::steady_timer close_timer_;
  std::array<char, 512> read_buffer_{};
  std::string writing_;
  bool write_pending_ = false;
  bool finishing_ = false;
  bool closed_ = false;
};

/// GET /history/{contract_id}/{tick_type}: starts a HistorySession.
void start_history_session(boost::beast::tcp_stream stream, std::shared_ptr<ServerState> state,
                           RecordSession::Request request, HistoryRequest history);

/// GET /history/{contract_id}: reads the summary and the gaps on a worker,
/// then calls `done` on `executor` with the response (200, 404 or 500).
void start_history_summary(std::shared_ptr<ServerState> state, int con_id,
                           boost::asio::any_io_executor executor,
                           std::function<void(Response)> done);

/// Whether the store has any row of `con_id` (any tick type). Worker threads.
bool contract_recorded(const store::Store& store, int con_id);
/// The 404 of a contract without a row.
/// `edge`: a scale-out edge, which keeps no record (replay there: the message says
/// where it is; its history is forwarded to the publisher).
ApiError nothing_recorded(int con_id, bool edge = false);

} // namespace http

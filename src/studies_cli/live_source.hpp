// A live transport of ib-studies (SSE or WebSocket): started once, stopped
// once, reporting through SourceEvents. Both run on one io_context thread.
#pragma once

namespace studies_cli {

class LiveSource {
public:
  virtual ~LiveSource() = default;
  /// Connects and keeps streaming (reconnecting) until stop().
  virtual void start() = 0;
  /// Closes the connection; no callback runs after it. Idempotent.
  virtual void stop() = 0;
};

} // namespace studies_cli

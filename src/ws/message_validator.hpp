// ws::MessageValidator: turns one WebSocket text message into a typed
// ws::ClientMessage, or a ws::ValidationError naming the failing property
// (api.md §5: INVALID_MESSAGE with the violation in `details`).
//
// The JSON Schemas of schemas/ws/ (embedded at build time) are the rules:
// envelope.json lists the message types, one file per type says what that
// message may hold (valijson, draft-07). valijson decides; this class only
// phrases the first violation it reports, e.g.
//   "data.params.limit: 0 is less than the minimum 1".
// A message of more than 64 JSON values is refused before any schema is
// applied: no client message has more than 14, and the schema's cost grows
// with the square of an array's length.
//
// Thread-safety: construction parses the schemas (not cheap: build one per
// process, e.g. shared()); validate() is const and may run concurrently on
// any number of threads.
#pragma once

#include "ws/client_message.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ws {

using ValidationResult = std::variant<ClientMessage, ValidationError>;

class MessageValidator {
public:
  /// Loads the embedded schemas. Throws std::runtime_error when one is
  /// missing or broken (a build defect, never a client's doing).
  MessageValidator();
  ~MessageValidator();
  MessageValidator(const MessageValidator&) = delete;
  MessageValidator& operator=(const MessageValidator&) = delete;

  /// The process-wide instance (built on first use; thread-safe).
  static const MessageValidator& shared();

  /// Parses and validates one text message. Never throws for client input.
  ValidationResult validate(std::string_view text) const;

  /// The accepted `type` values, in envelope.json order.
  const std::vector<std::string>& message_types() const;

private:
  struct Impl;
  std::unique_ptr<const Impl> impl_;
};

} // namespace ws

// The body of GET /ws/schemas: one JSON object mapping each client message
// type to its JSON Schema, e.g. {"subscribe":{...},"multi_subscribe":{...},...},
// built from the schemas embedded at build time (schemas/ws/).
//
// Pure function over static data; thread-safe.
#pragma once

#include <string>

namespace ws {

/// One line of JSON; members in envelope.json's type order. Throws
/// std::runtime_error if an embedded schema is not valid JSON (a build
/// defect).
std::string schemas_document();

} // namespace ws

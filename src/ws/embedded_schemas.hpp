// The JSON Schemas of the WebSocket client messages (schemas/ws/*.json),
// compiled into the binary by CMake (cmake/embed_ws_schemas.cmake) so the
// server validates with them and serves them without reading files.
//
// Immutable static data; thread-safe.
#pragma once

#include <span>
#include <string_view>

namespace ws {

struct EmbeddedSchema {
  std::string_view name; // file name without ".json": "subscribe", "envelope", ...
  std::string_view text; // the file's content
};

/// Every schema file, sorted by name.
std::span<const EmbeddedSchema> embedded_schemas();

} // namespace ws

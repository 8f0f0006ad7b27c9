// The web assets compiled into ib-stream-server: the API reference page
// (/docs), the OpenAPI document (/openapi.json) and the dashboard's page,
// scripts and styles (/dashboard, /dashboard/...). Their files are listed in
// src/www/assets.cmake and embedded at build time (cmake/embed_web_assets.cmake,
// the assembler's .incbin), so the server serves them offline, from the
// build tree, a package or a container alike, and reads no file at run time.
//
// Immutable data; thread-safe.
#pragma once

#include <span>
#include <string_view>

namespace www {

struct WebAsset {
  std::string_view path;         // the URL path it is served at: "/docs", "/dashboard/app.js"
  std::string_view content_type; // "text/html; charset=utf-8"
  std::string_view body;         // the file's bytes
};

/// Every embedded asset, in the order assets.cmake lists them.
std::span<const WebAsset> web_assets();

/// The asset served at `path` (exact match), or nullptr.
const WebAsset* find_web_asset(std::string_view path);

} // namespace www

#include "www/web_assets.hpp"

namespace www {

const WebAsset* find_web_asset(std::string_view path) {
  for (const auto& a : web_assets())
    if (a.path == path) return &a;
  return nullptr;
}

} // namespace www

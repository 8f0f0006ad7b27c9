# The files compiled into ib-stream-server (src/www/web_assets.hpp), as
# triples: the URL path, the file (a source file, or one built at build
# time by a custom command in the top-level CMakeLists.txt), its
# Content-Type without parameters (text/html; text is served as UTF-8).
# Included by the top-level CMakeLists.txt.

# The dashboard's charting library comes from npm (pinned in
# package-lock.json): the standalone build of lightweight-charts, which
# defines the global LightweightCharts.
set(IBS_LIGHTWEIGHT_CHARTS_JS
    ${CMAKE_CURRENT_LIST_DIR}/../../node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.js)
if(NOT EXISTS ${IBS_LIGHTWEIGHT_CHARTS_JS})
  message(FATAL_ERROR "The dashboard needs npm's lightweight-charts: run `npm ci` in the "
                      "repository root (scripts/install-deps.sh does), then configure again.")
endif()

set(IBS_WEB_ASSETS
  # The API reference (cmake/api_docs.cmake): the OpenAPI document and its page.
  /openapi.json ${IBS_OPENAPI_JSON} application/json
  /docs ${IBS_API_DOCS_HTML} text/html
  /dashboard ${CMAKE_CURRENT_LIST_DIR}/../../web/dashboard/index.html text/html
  /dashboard/dashboard.js ${CMAKE_CURRENT_LIST_DIR}/../../web/dashboard/dashboard.js text/javascript
  /dashboard/dashboard.css ${CMAKE_CURRENT_LIST_DIR}/../../web/dashboard/dashboard.css text/css
  /dashboard/lightweight-charts.js ${IBS_LIGHTWEIGHT_CHARTS_JS} text/javascript
)

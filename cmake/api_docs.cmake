# The API reference: docs/openapi.json (the OpenAPI 3.1 description of the
# HTTP API, kept by hand) and the page built from it at build time, served as
# /openapi.json and /docs (src/www/assets.cmake).
#
# IBS_API_DOCS_HTML: ${CMAKE_BINARY_DIR}/generated/docs.html, one
# self-contained HTML page written by `redocly build-docs --inlineBundle`
# (npm @redocly/cli, pinned in package-lock.json): Redoc's script is inlined,
# its one CDN image made inline by cmake/api_docs_offline.cmake, so nothing is
# loaded from the network; no telemetry is sent (redocly.yaml
# `telemetry: off`, REDOCLY_TELEMETRY=off). The ctest test docs.openapi_lint
# runs `redocly lint` on the document. Included by the top-level CMakeLists.txt.
set(IBS_OPENAPI_JSON ${CMAKE_SOURCE_DIR}/docs/openapi.json)
set(IBS_REDOCLY ${CMAKE_SOURCE_DIR}/node_modules/.bin/redocly)
set(IBS_API_DOCS_HTML ${CMAKE_BINARY_DIR}/generated/docs.html)
if(NOT EXISTS ${IBS_REDOCLY})
  message(FATAL_ERROR
    "${IBS_REDOCLY} is missing: it builds the /docs page. Install the npm packages of "
    "package-lock.json first: scripts/install-deps.sh (or `npm ci` in ${CMAKE_SOURCE_DIR}).")
endif()
set(IBS_REDOCLY_ENV REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_COLOR=1)

add_custom_command(
  OUTPUT ${IBS_API_DOCS_HTML}
  COMMAND ${CMAKE_COMMAND} -E env ${IBS_REDOCLY_ENV}
          ${IBS_REDOCLY} build-docs ${IBS_OPENAPI_JSON} --config ${CMAKE_SOURCE_DIR}/redocly.yaml
          --inlineBundle --title "ib-stream API reference" --output ${IBS_API_DOCS_HTML}.redocly
  COMMAND ${CMAKE_COMMAND} -DIN=${IBS_API_DOCS_HTML}.redocly -DOUT=${IBS_API_DOCS_HTML}
          -P ${CMAKE_CURRENT_LIST_DIR}/api_docs_offline.cmake
  DEPENDS ${IBS_OPENAPI_JSON} ${CMAKE_SOURCE_DIR}/redocly.yaml
          ${CMAKE_CURRENT_LIST_DIR}/api_docs_offline.cmake
  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
  COMMENT "Building the API reference page (redocly build-docs)"
  VERBATIM)

if(IBS_BUILD_TESTS)
  add_test(NAME docs.openapi_lint
           COMMAND ${CMAKE_COMMAND} -E env ${IBS_REDOCLY_ENV}
                   ${IBS_REDOCLY} lint ${IBS_OPENAPI_JSON} --config ${CMAKE_SOURCE_DIR}/redocly.yaml
                   --max-problems 1000
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(docs.openapi_lint PROPERTIES LABELS docs TIMEOUT 120)
endif()

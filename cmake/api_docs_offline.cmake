# Build step of cmake/api_docs.cmake, run with cmake -P after
# `redocly build-docs --inlineBundle`: makes the page IN (written by redocly)
# load nothing from the network and writes it to OUT. Redoc's sidebar shows
# the Redocly logo as an <img> from its CDN: that URL becomes an inline SVG
# (data: URI) with the same name. Fails when the page still names the CDN in
# a script, a style sheet or an image, so that a new redocly version cannot
# slip a network load in unnoticed.
file(READ "${IN}" html)
set(logo_svg "data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 width=%2264%22 height=%2216%22%3E%3Ctext x=%220%22 y=%2212%22 font-family=%22sans-serif%22 font-size=%2212%22 fill=%22%23888%22%3ERedocly%3C/text%3E%3C/svg%3E")
string(REPLACE "https://cdn.redoc.ly/redoc/logo-mini-full.svg" "${logo_svg}" html "${html}")
string(REPLACE "https://cdn.redoc.ly/redoc/logo-mini.svg" "${logo_svg}" html "${html}")
foreach(pattern "src=\"http" "src='http" "href=\"http[^\"]*\\.(css|woff2?|js)\"" "fonts.googleapis"
                "fonts.gstatic" "cdn.redoc.ly" "cdn.jsdelivr" "unpkg.com")
  if(html MATCHES "${pattern}")
    message(FATAL_ERROR "${IN} still loads something from the network (${pattern}): "
                        "update cmake/api_docs_offline.cmake for this @redocly/cli version")
  endif()
endforeach()
file(WRITE "${OUT}" "${html}")

# ibs_embed_web_assets(<output.cpp> <url-path> <file> <content-type> [<url-path> <file> <content-type>]...)
#
# <content-type> without parameters ("text/html"): text, JSON and JavaScript
# are served with "; charset=utf-8".
#
# Adds a build step that writes a C++ source defining www::web_assets()
# (src/www/web_assets.hpp): each file's bytes are put into the object file by
# the assembler's .incbin (no giant array literal to compile), under the URL
# path it is served at. A file may be the output of a custom command of the
# same directory (a page built by npm at build time). The source is rewritten
# whenever a file changes, with the files' SHA-256 in it, so that neither
# make nor ccache can reuse an object holding the old bytes.
function(ibs_embed_web_assets output)
  set(args ${ARGN})
  list(LENGTH args n)
  math(EXPR rem "${n} % 3")
  if(NOT rem EQUAL 0)
    message(FATAL_ERROR "ibs_embed_web_assets: triples of <url-path> <file> <content-type>")
  endif()
  set(files "")
  set(spec "")
  while(args)
    list(POP_FRONT args url file type)
    get_filename_component(file "${file}" ABSOLUTE)
    list(APPEND files "${file}")
    string(APPEND spec "${url}|${file}|${type}\n")
  endwhile()
  set(spec_file ${output}.list)
  file(CONFIGURE OUTPUT ${spec_file} CONTENT "${spec}")
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DSPEC=${spec_file} -DOUTPUT=${output}
            -P ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/embed_web_assets_gen.cmake
    DEPENDS ${files} ${spec_file} ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/embed_web_assets_gen.cmake
    COMMENT "Embedding the web assets"
    VERBATIM)
endfunction()

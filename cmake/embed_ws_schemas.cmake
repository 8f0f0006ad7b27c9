# ibs_embed_ws_schemas(<output.cpp> <schema.json>...)
#
# Writes a C++ source that defines ws::embedded_schemas() (src/ws/embedded_schemas.hpp):
# every schema file's name (without .json) and its text, as raw string literals.
# The files stay the single source of truth; the server reads no file at run
# time. Editing a schema re-runs CMake (CMAKE_CONFIGURE_DEPENDS), and the
# output is rewritten only when its content changes.
function(ibs_embed_ws_schemas output)
  set(entries "")
  foreach(file IN LISTS ARGN)
    get_filename_component(name ${file} NAME_WE)
    file(READ ${file} text)
    string(FIND "${text}" ")ibs_schema\"" clash)
    if(NOT clash EQUAL -1)
      message(FATAL_ERROR "${file} contains the raw-string delimiter )ibs_schema\"")
    endif()
    string(APPEND entries "    {\"${name}\", R\"ibs_schema(${text})ibs_schema\"},\n")
  endforeach()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${ARGN})
  set(IBS_WS_SCHEMA_ENTRIES "${entries}")
  configure_file(${CMAKE_CURRENT_FUNCTION_LIST_DIR}/ws_schemas.cpp.in ${output} @ONLY)
endfunction()

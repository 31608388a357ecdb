# dmc_add_template(<name> SOURCES <src>... [OUTPUT_DIRECTORY <dir>] [INSTALL])
#
# Builds the template plugin dmc-template-<name>.so against dmc::sdk. Only the
# entry symbol is exported. INSTALL puts it into <prefix>/<libdir>/dmc/plugins,
# where an installed dmc looks for plugins.
include(GNUInstallDirs)

function(dmc_add_template name)
  cmake_parse_arguments(ARG "INSTALL" "OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "dmc_add_template(${name}): SOURCES is required")
  endif()
  set(target dmc-template-${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE dmc::sdk)
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME dmc-template-${name}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  endif()
  if(ARG_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/dmc/plugins)
  endif()
endfunction()

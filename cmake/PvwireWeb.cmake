# The web view (web/, docs in README "Web view"): built with npm and Vite into
# ${PROJECT_BINARY_DIR}/web/dist, installed to <prefix>/share/pvwire/web, where the server
# finds it by default (PVWIRE_DEFAULT_WEB_ROOT). Node.js is needed to build it, never to run
# pvwire. Included by the top-level CMakeLists.txt after the library and tool targets exist.
find_program(PVWIRE_NODE_EXECUTABLE node)
find_program(PVWIRE_NPM_EXECUTABLE npm)
if(PVWIRE_NODE_EXECUTABLE AND PVWIRE_NPM_EXECUTABLE)
    set(_pvwire_web_default ON)
else()
    set(_pvwire_web_default OFF)
endif()
option(PVWIRE_BUILD_WEB "Build the web view in web/ with npm (default: ON when node and npm are found)"
       ${_pvwire_web_default})

set(PVWIRE_WEB_SOURCE_DIR "${PROJECT_SOURCE_DIR}/web")
set(PVWIRE_WEB_DIST_DIR "${PROJECT_BINARY_DIR}/web/dist")
set(PVWIRE_WEB_INSTALL_DIR "${CMAKE_INSTALL_DATADIR}/pvwire/web")

if(NOT PVWIRE_BUILD_WEB)
    message(STATUS "pvwire: web view not built (PVWIRE_BUILD_WEB=OFF; needs node and npm)")
    return()
endif()
if(NOT PVWIRE_NODE_EXECUTABLE OR NOT PVWIRE_NPM_EXECUTABLE)
    message(FATAL_ERROR "PVWIRE_BUILD_WEB=ON needs node and npm (scripts/setup installs them)")
endif()

file(GLOB_RECURSE _pvwire_web_inputs CONFIGURE_DEPENDS "${PVWIRE_WEB_SOURCE_DIR}/src/*")
list(APPEND _pvwire_web_inputs "${PVWIRE_WEB_SOURCE_DIR}/index.html" "${PVWIRE_WEB_SOURCE_DIR}/vite.config.js"
     "${PVWIRE_WEB_SOURCE_DIR}/package.json" "${PVWIRE_WEB_SOURCE_DIR}/package-lock.json")
add_custom_command(
    OUTPUT "${PVWIRE_WEB_DIST_DIR}/index.html"
    COMMAND "${CMAKE_COMMAND}" "-DWEB_DIR=${PVWIRE_WEB_SOURCE_DIR}" "-DOUT_DIR=${PVWIRE_WEB_DIST_DIR}"
            "-DNPM=${PVWIRE_NPM_EXECUTABLE}" -P "${PROJECT_SOURCE_DIR}/cmake/BuildWeb.cmake"
    DEPENDS ${_pvwire_web_inputs} "${PROJECT_SOURCE_DIR}/cmake/BuildWeb.cmake"
    COMMENT "pvwire web view: npm + vite build into ${PVWIRE_WEB_DIST_DIR}"
    VERBATIM)
add_custom_target(pvwire_web ALL DEPENDS "${PVWIRE_WEB_DIST_DIR}/index.html")

install(DIRECTORY "${PVWIRE_WEB_DIST_DIR}/" DESTINATION "${PVWIRE_WEB_INSTALL_DIR}")
# Where an installed server looks for the page when ServerConfig::web_root is empty.
set(_pvwire_web_root_define "PVWIRE_DEFAULT_WEB_ROOT=\"${CMAKE_INSTALL_FULL_DATADIR}/pvwire/web\"")
target_compile_definitions(pvwire PRIVATE ${_pvwire_web_root_define})
if(TARGET pvwire_tool)
    target_compile_definitions(pvwire_tool PRIVATE ${_pvwire_web_root_define})
endif()

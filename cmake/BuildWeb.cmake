# Builds web/ (the React page) into OUT_DIR: `cmake -P BuildWeb.cmake` with
#   -DWEB_DIR=<source web/> -DOUT_DIR=<build tree>/web/dist -DNPM=<npm>
# `npm ci` runs only when web/node_modules is missing or older than package-lock.json (npm
# writes node_modules/.package-lock.json at every install), and from npm's cache when the
# packages are there, so a second build needs no network. Then `vite build` writes the page.
foreach(var WEB_DIR OUT_DIR NPM)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "BuildWeb.cmake: ${var} is not set")
    endif()
endforeach()

function(run_in_web what)
    execute_process(COMMAND ${ARGN} WORKING_DIRECTORY "${WEB_DIR}" RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "pvwire web: ${what} failed (exit ${rc}) in ${WEB_DIR}")
    endif()
endfunction()

set(installed "${WEB_DIR}/node_modules/.package-lock.json")
if(NOT EXISTS "${installed}" OR "${WEB_DIR}/package-lock.json" IS_NEWER_THAN "${installed}")
    message(STATUS "pvwire web: npm ci in ${WEB_DIR}")
    run_in_web("npm ci" "${NPM}" ci --prefer-offline --no-audit --no-fund)
endif()
run_in_web("vite build" "${NPM}" run build -- --outDir "${OUT_DIR}" --emptyOutDir --logLevel warn)

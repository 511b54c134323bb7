# Installs a pvwire build tree into a scratch prefix, builds a consumer project (one of
# tests/install_consumer*) against it with find_package(pvwire), runs its program and checks
# that it prints EXPECTED_OUTPUT (by default the pvwire version).
#
# Run as: cmake -DPVWIRE_BUILD_DIR=... -DCONSUMER_SOURCE_DIR=... -DWORK_DIR=...
#               -DEXPECTED_VERSION=... [-DPVWIRE_CONFIG=...] [-DCONSUMER_GENERATOR=...]
#               [-DCONSUMER_CXX_COMPILER=...] [-DCONSUMER_CXX_FLAGS=...]
#               [-DCONSUMER_EXE=pvwire_consumer] [-DCONSUMER_ARGS=...] [-DEXPECTED_OUTPUT=...]
#               -P RunInstallConsumerTest.cmake
cmake_minimum_required(VERSION 3.25)

foreach(var IN ITEMS PVWIRE_BUILD_DIR CONSUMER_SOURCE_DIR WORK_DIR EXPECTED_VERSION)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "install_consumer: ${var} is not set")
    endif()
endforeach()

if(NOT DEFINED CONSUMER_EXE OR CONSUMER_EXE STREQUAL "")
    set(CONSUMER_EXE pvwire_consumer)
endif()
if(NOT DEFINED EXPECTED_OUTPUT OR EXPECTED_OUTPUT STREQUAL "")
    set(EXPECTED_OUTPUT "${EXPECTED_VERSION}")
endif()

set(prefix "${WORK_DIR}/prefix")
set(consumer_build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(run_step what)
    execute_process(COMMAND ${ARGN}
                    RESULT_VARIABLE rc
                    OUTPUT_VARIABLE out
                    ERROR_VARIABLE out)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "install_consumer: ${what} FAILED (exit ${rc}):\n${out}")
    endif()
    message(STATUS "install_consumer: ${what}: ok")
    set(step_output "${out}" PARENT_SCOPE)
endfunction()

# 1. install
set(config_args "")
if(DEFINED PVWIRE_CONFIG AND NOT PVWIRE_CONFIG STREQUAL "")
    set(config_args --config "${PVWIRE_CONFIG}")
endif()
run_step("install into ${prefix}"
         "${CMAKE_COMMAND}" --install "${PVWIRE_BUILD_DIR}" --prefix "${prefix}" ${config_args})
if(NOT EXISTS "${prefix}/include/pvwire/version.hpp")
    message(FATAL_ERROR "install_consumer: ${prefix}/include/pvwire/version.hpp was not installed")
endif()

# The web view, when it was built (PVWIRE_BUILD_WEB): installed beside the library, where the
# compiled-in PVWIRE_DEFAULT_WEB_ROOT points.
if(DEFINED WEB_INSTALL_DIR AND NOT WEB_INSTALL_DIR STREQUAL "" AND NOT EXISTS "${prefix}/${WEB_INSTALL_DIR}/index.html")
    message(FATAL_ERROR "install_consumer: the web view was not installed to ${prefix}/${WEB_INSTALL_DIR}")
endif()

# 2. configure the consumer against the prefix only
set(configure_args -S "${CONSUMER_SOURCE_DIR}" -B "${consumer_build}"
                   "-DCMAKE_PREFIX_PATH=${prefix}"
                   "-DEXPECTED_PVWIRE_VERSION=${EXPECTED_VERSION}")
if(DEFINED CONSUMER_GENERATOR AND NOT CONSUMER_GENERATOR STREQUAL "")
    list(APPEND configure_args -G "${CONSUMER_GENERATOR}")
endif()
if(DEFINED CONSUMER_CXX_COMPILER AND NOT CONSUMER_CXX_COMPILER STREQUAL "")
    list(APPEND configure_args "-DCMAKE_CXX_COMPILER=${CONSUMER_CXX_COMPILER}")
endif()
if(DEFINED PVWIRE_CONFIG AND NOT PVWIRE_CONFIG STREQUAL "")
    list(APPEND configure_args "-DCMAKE_BUILD_TYPE=${PVWIRE_CONFIG}")
endif()
if(DEFINED CONSUMER_CXX_FLAGS AND NOT CONSUMER_CXX_FLAGS STREQUAL "")
    # A sanitized libpvwire.a needs the sanitizer runtimes in the consumer as well.
    list(APPEND configure_args "-DCMAKE_CXX_FLAGS=${CONSUMER_CXX_FLAGS}"
                               "-DCMAKE_EXE_LINKER_FLAGS=${CONSUMER_CXX_FLAGS}")
endif()
run_step("configure consumer" "${CMAKE_COMMAND}" ${configure_args})

# 3. build
run_step("build consumer" "${CMAKE_COMMAND}" --build "${consumer_build}" ${config_args})

# 4. run
set(exe "")
foreach(candidate IN ITEMS
        "${consumer_build}/${CONSUMER_EXE}"
        "${consumer_build}/${PVWIRE_CONFIG}/${CONSUMER_EXE}"
        "${consumer_build}/${CONSUMER_EXE}.exe"
        "${consumer_build}/${PVWIRE_CONFIG}/${CONSUMER_EXE}.exe")
    if(EXISTS "${candidate}" AND NOT IS_DIRECTORY "${candidate}")
        set(exe "${candidate}")
        break()
    endif()
endforeach()
if(exe STREQUAL "")
    message(FATAL_ERROR "install_consumer: built consumer binary not found in ${consumer_build}")
endif()
run_step("run consumer" "${exe}" ${CONSUMER_ARGS})
string(FIND "${step_output}" "${EXPECTED_OUTPUT}" pos)
if(pos EQUAL -1)
    message(FATAL_ERROR "install_consumer: consumer printed\n${step_output}\n"
                        "which does not contain ${EXPECTED_OUTPUT}")
endif()
message(STATUS "install_consumer: consumer printed: ${step_output}")

// Catch2 main for every test executable (pvwire_tests, pvwire_allocation_tests), compiled once
// as the object library pvwire_test_main, without the precompiled header (see the top-level
// CMakeLists.txt) so that CATCH_CONFIG_MAIN takes effect.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

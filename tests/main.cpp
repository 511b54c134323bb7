// Catch2 main for pvwire_tests. This file is excluded from the precompiled header (see the
// top-level CMakeLists.txt) so that CATCH_CONFIG_MAIN takes effect.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

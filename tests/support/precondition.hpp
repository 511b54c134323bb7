#pragma once

// Tests that need something from the machine (a shared folder, multicast on loopback) call
// missing_precondition() when it is absent and then return. A developer's machine may lack
// it, so there the test is skipped with a visible warning; in CI (CI=true, set by .ci/run and
// by hosted CI services) the machine is meant to have it, so the test fails instead of
// passing without having checked anything.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <string_view>

namespace pvwire::test {

inline bool running_in_ci() {
    const char* ci = std::getenv("CI");
    return ci && std::string_view(ci) == "true";
}

inline void missing_precondition(const std::string& what) {
    if (running_in_ci()) FAIL("precondition missing in CI (CI=true): " << what);
    WARN("test skipped, precondition missing: " << what << " (with CI=true this fails)");
}

}  // namespace pvwire::test

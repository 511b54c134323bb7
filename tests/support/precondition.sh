# Sourced by the bash drivers of CTest tests (tests/node/run.sh, tests/web/run.sh), as
# tests/support/precondition.hpp is included by the Catch2 tests:
#   missing "what is missing (how to get it)"
# exits 77 (CTest's SKIP_RETURN_CODE) on a developer's machine, and fails (exit 1) when
# CI=true, where a skipped test would pass without having checked anything.
missing() {
    if [ "${CI:-}" = true ]; then
        echo "FAIL: precondition missing in CI (CI=true): $1"
        exit 1
    fi
    echo "SKIPPED: $1 (with CI=true this fails)"
    exit 77
}

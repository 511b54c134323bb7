#pragma once

// Polls a condition every 10 ms until it holds or `limit` has passed; the last answer is the
// result. For tests that wait on another thread (a server, a client context) with a bound.

#include <chrono>
#include <thread>

namespace pvwire::test {

template <class Pred> bool eventually(Pred p, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (p()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return p();
}

}  // namespace pvwire::test

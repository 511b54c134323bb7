// Joining the threads of an io_context that was told to finish: they return once nothing is
// left to do; if something still runs after `grace`, the context is stopped so that shutdown
// never hangs. Private to src/.
#pragma once

#include <pvwire/net/asio.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace pvwire::net::detail {

inline void join_threads(std::vector<std::thread*> threads, asio::io_context& io,
                         std::chrono::seconds grace = std::chrono::seconds(5)) {
    std::mutex m;
    std::condition_variable cv;
    bool joined = false;
    std::thread watchdog([&] {
        std::unique_lock lock(m);
        if (!cv.wait_for(lock, grace, [&] { return joined; })) io.stop();
    });
    for (auto* t : threads)
        if (t->joinable()) t->join();
    {
        std::lock_guard lock(m);
        joined = true;
    }
    cv.notify_one();
    watchdog.join();
}

}  // namespace pvwire::net::detail

// ForwardedSearches: the unicast searches this server passed on to the local fan-out group
// lately. The group delivers a copy to every socket on the port, this server's own included;
// it answered the original already, so its own copy must not be answered (or counted against
// the searcher's rate) a second time. A copy is recognised by the searcher's address, port and
// search sequence, which the forwarded message carries as its reply address.
//
// Threading: any thread (one mutex; the UDP path is not hot).
#pragma once

#include <pvwire/wire/basic_types.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace pvwire::server::detail {

class ForwardedSearches {
public:
    using Clock = std::chrono::steady_clock;

    void remember(std::uint32_t sequence, const wire::Address& searcher, std::uint16_t port,
                  Clock::time_point now = Clock::now()) {
        std::lock_guard lock(mu_);
        recent_[next_] = Entry{sequence, searcher, port, now};
        next_ = (next_ + 1) % recent_.size();
    }
    // True (once) when a search with these coordinates was forwarded by this server within the
    // last second.
    bool take(std::uint32_t sequence, const wire::Address& searcher, std::uint16_t port,
              Clock::time_point now = Clock::now()) {
        std::lock_guard lock(mu_);
        for (auto& e : recent_) {
            if (e.port == port && e.sequence == sequence && e.searcher.bytes == searcher.bytes &&
                now - e.at < std::chrono::seconds(1)) {
                e.port = 0;
                return true;
            }
        }
        return false;
    }

private:
    struct Entry {
        std::uint32_t sequence = 0;
        wire::Address searcher;
        std::uint16_t port = 0;  // 0: free
        Clock::time_point at{};
    };
    std::mutex mu_;
    std::array<Entry, 64> recent_{};
    std::size_t next_ = 0;
};

}  // namespace pvwire::server::detail

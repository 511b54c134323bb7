// SearchRateLimiter: how many UDP searches the server answers, per source address and in
// total. A search costs a lookup per name and a reply datagram; a peer that floods searches
// (or several spoofing many addresses) must not take the server's time from everyone else.
//
// Token buckets: each source address refills at `per_source` searches per second up to a
// burst of two seconds' worth, and so does the one bucket all sources share (`total`). A search
// is answered only when both its source's bucket and the shared one have a token.
//
// Why both: a per-source limit alone lets a spoofer with many addresses use the whole server;
// a global budget alone lets one noisy peer silence everybody. A spoofer can still use up a
// victim's own budget by faking its address: that is the price of stateless UDP, and why the
// per-source rate is generous (a client starting 10,000 channels sends ~200 datagrams).
//
// The table of sources is bounded: when it is full, sources whose bucket is full again (idle
// for two seconds) are forgotten; if none is, new sources share the global budget only.
//
// Threading: admit() may be called from any thread (one mutex; the UDP path is not hot).
#pragma once

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>

namespace pvwire::server::detail {

class SearchRateLimiter {
public:
    using Clock = std::chrono::steady_clock;

    // Rates in searches per second; 0 = no limit of that kind.
    SearchRateLimiter(double per_source, double total, std::size_t max_sources = 8192);

    enum class Verdict { answer, source_over, total_over };
    // Whether to answer a search from `source` arriving at `now` (takes a token when so), or
    // which budget it is over.
    Verdict admit(const boost::asio::ip::address& source, Clock::time_point now = Clock::now());
    std::size_t sources() const;

private:
    struct Bucket {
        double tokens = 0;
        Clock::time_point refilled{};
    };
    // Refills `b` for the time since it was last refilled (up to `burst`).
    static void refill(Bucket& b, double rate, double burst, Clock::time_point now);
    Bucket* bucket_of(const boost::asio::ip::address& source, Clock::time_point now);
    void forget_idle(Clock::time_point now);

    double per_source_, total_;
    double source_burst_, total_burst_;
    std::size_t max_sources_;
    mutable std::mutex mu_;
    Bucket global_;
    std::map<boost::asio::ip::address, Bucket> sources_;
};

}  // namespace pvwire::server::detail

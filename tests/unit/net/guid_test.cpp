// Server GUIDs: distinct across calls and threads, no constant bytes.
#include <catch2/catch.hpp>

#include <pvwire/net/guid.hpp>

#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace pvwire;

TEST_CASE("make_guid: two calls differ", "[net][guid]") {
    const auto a = net::make_guid();
    const auto b = net::make_guid();
    CHECK_FALSE(a == b);
    CHECK(a.to_string().size() == 24);
}

TEST_CASE("make_guid: many calls are all distinct, also across threads", "[net][guid]") {
    std::set<std::array<std::uint8_t, 12>> seen;
    std::mutex m;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 500; ++i) {
                const auto g = net::make_guid();
                std::lock_guard lock(m);
                seen.insert(g.bytes);
            }
        });
    for (auto& t : threads) t.join();
    CHECK(seen.size() == 2000);
}

TEST_CASE("make_guid: no byte position is constant and bytes look random", "[net][guid]") {
    constexpr int n = 256;
    std::vector<wire::Guid> gs;
    for (int i = 0; i < n; ++i) gs.push_back(net::make_guid());

    for (std::size_t pos = 0; pos < 12; ++pos) {
        std::set<std::uint8_t> values;
        for (const auto& g : gs) values.insert(g.bytes[pos]);
        INFO("byte " << pos);
        // 256 random bytes take ~162 distinct values; a constant or counter-like byte would not.
        CHECK(values.size() > 100);
    }

    // Roughly half of all bits set.
    std::size_t ones = 0;
    for (const auto& g : gs)
        for (auto b : g.bytes) ones += std::size_t(__builtin_popcount(b));
    const double frac = double(ones) / (n * 96.0);
    CHECK(frac > 0.45);
    CHECK(frac < 0.55);

    // Never all zero.
    for (const auto& g : gs) CHECK_FALSE(g == wire::Guid{});
}

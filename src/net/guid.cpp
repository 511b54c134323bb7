#include <pvwire/net/guid.hpp>
#include <pvwire/net/interfaces.hpp>

#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace pvwire::net {

namespace {

constexpr std::uint64_t fnv_offset = 0xcbf29ce484222325ull;
constexpr std::uint64_t fnv_prime = 0x100000001b3ull;

std::uint64_t fnv1a(const std::vector<unsigned char>& data, std::uint64_t seed) {
    std::uint64_t h = fnv_offset ^ seed;
    for (unsigned char c : data) {
        h ^= c;
        h *= fnv_prime;
    }
    return h;
}

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

template <class T>
void append(std::vector<unsigned char>& buf, const T& v) {
    const auto* p = reinterpret_cast<const unsigned char*>(&v);
    buf.insert(buf.end(), p, p + sizeof(T));
}

void append(std::vector<unsigned char>& buf, const std::string& s) {
    append(buf, s.size());
    buf.insert(buf.end(), s.begin(), s.end());
}

std::atomic<std::uint64_t> g_counter{0};

}  // namespace

wire::Guid make_guid() {
    std::vector<unsigned char> buf;
    buf.reserve(256);

    // Randomness first: the main source of uniqueness. random_device may be unavailable on
    // odd platforms; the other inputs still make GUIDs distinct per process and call.
    std::uint64_t rnd[2] = {0, 0};
    try {
        std::random_device rd;
        for (auto& r : rnd) r = (std::uint64_t(rd()) << 32) ^ rd();
    } catch (...) {
    }
    append(buf, rnd[0]);
    append(buf, rnd[1]);

    append(buf, host_name());
    if (const char* pod = std::getenv("HOSTNAME")) append(buf, std::string(pod));

    append(buf, std::uint64_t(::getpid()));
    const std::uint64_t count = g_counter.fetch_add(1, std::memory_order_relaxed);
    append(buf, count);
    append(buf, std::chrono::system_clock::now().time_since_epoch().count());
    append(buf, std::chrono::steady_clock::now().time_since_epoch().count());
    // Address of a stack object: differs between processes under ASLR.
    const void* here = &buf;
    append(buf, here);

    const std::uint64_t a = splitmix64(fnv1a(buf, 0) ^ rnd[0]);
    const std::uint64_t b = splitmix64(fnv1a(buf, 0x5bd1e9955bd1e995ull) ^ rnd[1] ^ splitmix64(count));

    wire::Guid g;
    for (int i = 0; i < 8; ++i) g.bytes[std::size_t(i)] = std::uint8_t(a >> (8 * i));
    for (int i = 0; i < 4; ++i) g.bytes[std::size_t(8 + i)] = std::uint8_t(b >> (8 * i));
    return g;
}

}  // namespace pvwire::net

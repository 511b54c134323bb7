// Busy polling leaves a core free: the threads of one process that spin after their last
// handler are at most one fewer than the CPUs they may run on (src/net/run_loop.hpp). On two
// CPUs a server and a client in one process, both polling, spin one at a time.
#include <catch2/catch.hpp>

#include <pvwire/client/context.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/server/server.hpp>
#include <pvwire/server/shared_pv.hpp>

#include "../../../src/net/run_loop.hpp"

#include <chrono>
#include <thread>

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

using namespace pvwire;
using namespace std::chrono_literals;

namespace {

double process_cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    const auto seconds = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
    return seconds(u.ru_utime) + seconds(u.ru_stime);
}

// Restricts the calling thread (and the threads it starts) to its first two CPUs; restores
// the mask it had when destroyed.
struct TwoCpus {
    cpu_set_t before{};
    bool two = false;
    TwoCpus() {
        pthread_getaffinity_np(pthread_self(), sizeof before, &before);
        cpu_set_t set;
        CPU_ZERO(&set);
        for (int cpu = 0, n = 0; cpu < CPU_SETSIZE && n < 2; ++cpu)
            if (CPU_ISSET(cpu, &before)) CPU_SET(cpu, &set), ++n;
        two = CPU_COUNT(&set) == 2 && pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
    }
    ~TwoCpus() { pthread_setaffinity_np(pthread_self(), sizeof before, &before); }
};

}  // namespace

TEST_CASE("on two CPUs, a server and a client of one process that both poll spin one at a time", "[server][busy_poll]") {
    TwoCpus cpus;
    REQUIRE(cpus.two);  // this machine runs the tests on 2 CPUs at least
    constexpr auto spin = 10ms;  // the longest budget: a thread spinning after each GET is busy all along
    auto server_cfg = net::ServerConfig::isolated();
    server_cfg.busy_poll = spin;
    server::Server srv(server_cfg);
    srv.add_pv("spin:pv", server::SharedPV::create("spin:pv", nt::NTScalar{TypeCode::Float64}.create()));
    srv.start();
    auto client_cfg = net::ClientConfig::isolated();
    client_cfg.busy_poll = spin;
    client::Context ctx(client_cfg);
    client::OpOptions o;
    o.server = "127.0.0.1:" + std::to_string(srv.tcp_port());
    o.timeout = 5s;
    ctx.get("spin:pv", o);

    // a GET every 2 ms for a second: each one restores both threads' spin budgets
    const double cpu0 = process_cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - t0 < 1s) {
        ctx.get("spin:pv", o);
        std::this_thread::sleep_for(2ms);
    }
    const double busy = (process_cpu_seconds() - cpu0) / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    INFO("process CPU " << busy << " s per s");
    // one spinner (about 1 s/s) and the GETs themselves; two spinners would take about 2 s/s
    CHECK(busy < 1.5);
    CHECK(busy > 0.3);  // and one does spin (without spinning, 500 GETs take about 0.05 s/s)
}

TEST_CASE("the spin budget follows the gaps between bursts of work", "[server][busy_poll]") {
    using us = std::chrono::microseconds;
    net::detail::SpinBudget budget(us(100));
    CHECK(budget.now() == us(100));

    // a fixed-rate server: inside a tick's burst the spins find work at once (1 us), the
    // spin after it finds nothing, and the next tick ends a sleep of 1 ms; within a few dozen
    // ticks the budget is the minimum, and stays there
    auto tick = [&] {
        budget.found_after(us(1));
        budget.found_nothing();
        budget.found_after(us(1000));
    };
    for (int i = 0; i < 40; ++i) tick();
    CHECK(budget.now() <= us(3));
    for (int i = 0; i < 100; ++i) tick();
    CHECK(budget.now() == net::detail::SpinBudget::min_spin);

    // request/reply traffic: the next request ended a sleep of 20 us, which a 40 us spin
    // would have caught; the budget grows back at once, and a spin that waited 45 us for the
    // next one raises it again
    budget.found_nothing();
    budget.found_after(us(20));
    CHECK(budget.now() == us(40));
    budget.found_after(us(45));
    CHECK(budget.now() == us(90));
    // never beyond the setting; one empty spin costs an eighth
    budget.found_after(us(99));
    CHECK(budget.now() == us(100));
    budget.found_nothing();
    CHECK(budget.now() == us(88));
}

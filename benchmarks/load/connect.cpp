// pvwire-bench connect: how long it takes to search for and connect N channels, from one
// client context or spread round-robin over M contexts (M independent clients in one
// process, each with its own sockets and thread), against any server.
#include "programs.hpp"

#include <pvwire/client/context.hpp>

#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>

namespace pvwire::bench {

int run_connect(const ConnectArgs& a) {
    raise_file_limit();
    install_signals();
    const unsigned nclients = std::max(1u, std::min(a.clients, a.count));
    // What every channel's state handler updates; the handler captures only a pointer to this
    // and its index, so it fits in std::function without a heap allocation of its own (the
    // client's memory per channel is part of what is measured).
    struct Progress {
        std::mutex mu;
        std::condition_variable cv;
        unsigned connected = 0, count = 0;
        std::vector<char> seen;  // each channel's first connection is counted once
        bool print = false;
        Clock::time_point t0;
    } progress;
    auto& mu = progress.mu;
    auto& cv = progress.cv;
    auto& connected = progress.connected;
    progress.count = a.count;
    progress.seen.assign(a.count, 0);
    progress.print = a.progress;

    const auto t0 = Clock::now();
    progress.t0 = t0;
    const double cpu0 = cpu_seconds();
    std::vector<std::unique_ptr<client::Context>> contexts;
    contexts.reserve(nclients);
    for (unsigned c = 0; c < nclients; ++c)
        contexts.push_back(std::make_unique<client::Context>(net::ClientConfig::from_env()));
    const long rss0 = rss_kb();  // the contexts, before any channel: channels cost rss - rss0
    std::vector<std::shared_ptr<client::Channel>> channels;
    channels.reserve(a.count);
    for (unsigned i = 0; i < a.count; ++i) {
        auto ch = contexts[i % nclients]->channel(a.prefix + std::to_string(i));
        ch->on_state([p = &progress, i](client::Channel::State s) {
            if (s != client::Channel::State::Connected) return;
            bool all = false;
            {
                std::lock_guard lock(p->mu);
                if (p->seen[i]) return;
                p->seen[i] = 1;
                all = ++p->connected == p->count;
                if (p->print && p->connected % std::max(1u, p->count / 10) == 0)
                    std::fprintf(stderr, "pvwire-bench connect: %u connected at %.3f s\n", p->connected, since(p->t0));
            }
            if (all) p->cv.notify_all();
        });
        channels.push_back(std::move(ch));
    }
    const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.timeout));
    unsigned done = 0;
    {
        std::unique_lock lock(mu);
        while (connected < a.count && !interrupted && Clock::now() < deadline)
            cv.wait_for(lock, std::chrono::milliseconds(50));
        done = connected;
    }
    const double dt = since(t0), cpu = cpu_seconds() - cpu0;
    const long rss = rss_kb();
    std::uint64_t searches = 0;
    for (auto& c : contexts) searches += c->stats().searches_sent;
    if (done < a.count) {
        std::cerr << "pvwire-bench connect: only " << done << " of " << a.count << " channels connected within "
                  << a.timeout << " s\n";
        return 1;
    }
    std::printf("pvwire-bench connect: %u channels over %u client(s) connected in %.3f s (%.0f/s), %llu search "
                "messages, CPU %.2f s, RSS %ld KiB\n",
                a.count, nclients, dt, double(a.count) / dt, static_cast<unsigned long long>(searches), cpu, rss);
    ResultLine("connect")
        .add("channels", std::uint64_t(a.count))
        .add("clients", std::uint64_t(nclients))
        .add("seconds", dt, 4)
        .add("channels_per_s", double(a.count) / dt, 1)
        .add("searches", searches)
        .add("cpu_s", cpu)
        .add("rss_kb", std::uint64_t(rss))
        .add("rss0_kb", std::uint64_t(rss0))
        .print();
    channels.clear();
    contexts.clear();
    return 0;
}

}  // namespace pvwire::bench

// pvwire-bench wire-fanout: the physical limit of the fixed-rate fan-out (issue 13). No
// pvAccess: a server thread sends, R times a second on absolute deadlines of a steady clock,
// one write (send()) per client connection holding P messages of --size bytes (a 60-byte
// message is about one pvAccess monitor update of an NTScalar); a reader thread takes them
// from all C loopback TCP connections with epoll (--readers R: R threads, each a share of
// them). Each message carries the system time of its tick and a counter, so the report is
// the one of `pvwire-bench fanout`: delivered/expected, delay p50/p99, gaps, and the server
// thread's CPU (its own thread CPU clock) per delivered update.
#include "programs.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <stdexcept>
#include <thread>

namespace pvwire::bench {

namespace {

struct Message {
    std::int64_t stamp_ns;   // system clock at the tick
    std::uint32_t counter;   // the tick
};

std::int64_t system_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("wire-fanout: ") + what + ": " + std::strerror(errno));
}

// C connected pairs over loopback: first the server ends, then the client ends.
std::pair<std::vector<int>, std::vector<int>> connect_pairs(unsigned n) {
    const int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
    check(lfd >= 0, "socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    check(::bind(lfd, reinterpret_cast<sockaddr*>(&addr), len) == 0 && ::listen(lfd, int(n)) == 0 &&
              ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len) == 0,
          "listen");
    std::vector<int> servers, clients;
    for (unsigned i = 0; i < n; ++i) {
        const int c = ::socket(AF_INET, SOCK_STREAM, 0);
        check(c >= 0 && ::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0, "connect");
        const int s = ::accept(lfd, nullptr, nullptr);
        check(s >= 0, "accept");
        const int one = 1;
        ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // as pvAccess servers do
        servers.push_back(s);
        clients.push_back(c);
    }
    ::close(lfd);
    return {servers, clients};
}

// The reader's state per connection: a partial message carried to the next read.
struct ReaderConn {
    int fd;
    std::size_t fill = 0;
    bool have_last = false;
    std::uint32_t last = 0;
};

class Reader {
public:
    Reader(const std::vector<int>& fds, std::size_t size) : size_(size), buf_(64 * 1024) {
        ep_ = ::epoll_create1(0);
        check(ep_ >= 0, "epoll_create1");
        for (std::size_t i = 0; i < fds.size(); ++i) {
            conns_.push_back(ReaderConn{fds[i]});
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u64 = i;
            check(::epoll_ctl(ep_, EPOLL_CTL_ADD, fds[i], &ev) == 0, "epoll_ctl");
        }
        partial_.resize(fds.size() * size);
    }
    ~Reader() { ::close(ep_); }

    std::atomic<bool> counting{false}, stop{false};
    std::atomic<std::uint64_t> delivered{0}, gaps{0};
    std::atomic<unsigned> started{0};  // connections that delivered a message
    std::vector<float> delays;         // reserved by the owner before counting

    void run() {
        epoll_event evs[64];
        while (!stop.load(std::memory_order_relaxed)) {
            const int n = ::epoll_wait(ep_, evs, 64, 20);
            for (int k = 0; k < n; ++k) read_conn(evs[k].data.u64);
        }
    }

private:
    void read_conn(std::size_t i) {
        auto& c = conns_[i];
        const ssize_t n = ::recv(c.fd, buf_.data(), buf_.size(), MSG_DONTWAIT);
        if (n <= 0) return;
        const std::int64_t now = system_ns();
        std::size_t at = 0;
        auto* part = partial_.data() + i * size_;
        while (at < std::size_t(n)) {
            const std::size_t take = std::min(size_ - c.fill, std::size_t(n) - at);
            std::memcpy(part + c.fill, buf_.data() + at, take);
            c.fill += take;
            at += take;
            if (c.fill < size_) break;
            c.fill = 0;
            Message m;
            std::memcpy(&m, part, sizeof m);
            on_message(c, m, now);
        }
    }
    void on_message(ReaderConn& c, const Message& m, std::int64_t now) {
        if (!c.have_last) started.fetch_add(1);
        if (counting.load(std::memory_order_relaxed)) {
            delivered.fetch_add(1, std::memory_order_relaxed);
            if (c.have_last && m.counter > c.last + 1) gaps.fetch_add(m.counter - c.last - 1, std::memory_order_relaxed);
            if (delays.size() < delays.capacity()) delays.push_back(float(double(now - m.stamp_ns) / 1e3));
        }
        c.have_last = true;
        c.last = m.counter;
    }

    std::size_t size_;
    int ep_;
    std::vector<ReaderConn> conns_;
    std::vector<std::byte> buf_, partial_;
};

// The server thread: one send() per connection per tick, P messages in it.
void serve_ticks(const std::vector<int>& fds, const WireFanoutArgs& a, const std::atomic<bool>& stop,
                 std::atomic<std::uint64_t>& errors) {
    std::vector<std::byte> out(a.count * a.size, std::byte{0x5A});
    const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / a.rate));
    auto deadline = Clock::now();
    for (std::uint32_t tick = 1; !stop.load(std::memory_order_relaxed); ++tick) {
        deadline += period;
        std::this_thread::sleep_until(deadline);
        const Message m{system_ns(), tick};
        for (unsigned p = 0; p < a.count; ++p) std::memcpy(out.data() + p * a.size, &m, sizeof m);
        for (int fd : fds)
            if (::send(fd, out.data(), out.size(), MSG_NOSIGNAL) != ssize_t(out.size())) errors.fetch_add(1);
    }
}

double thread_cpu_s(std::thread& t) {
    clockid_t id;
    timespec ts{};
    if (pthread_getcpuclockid(t.native_handle(), &id) != 0 || clock_gettime(id, &ts) != 0) return -1;
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

}  // namespace

int run_wire_fanout(const WireFanoutArgs& a) {
    if (a.size < sizeof(Message)) throw std::invalid_argument("wire-fanout: --size below 12 bytes");
    auto [server_fds, client_fds] = connect_pairs(a.clients);
    const unsigned n_readers = std::min(a.readers, a.clients);
    std::vector<std::unique_ptr<Reader>> readers;
    for (unsigned r = 0; r < n_readers; ++r) {
        std::vector<int> mine;
        for (std::size_t i = r; i < client_fds.size(); i += n_readers) mine.push_back(client_fds[i]);
        readers.push_back(std::make_unique<Reader>(mine, a.size));
        readers.back()->delays.reserve(
            std::size_t(std::min(1e7, a.rate * double(mine.size()) * a.count * a.seconds * 1.1)));
    }
    auto total = [&readers](auto member) {
        std::uint64_t sum = 0;
        for (auto& r : readers) sum += ((*r).*member).load();
        return sum;
    };
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> errors{0};
    std::vector<std::thread> rx;
    for (auto& r : readers) rx.emplace_back([reader = r.get()] { reader->run(); });
    std::thread tx([&] { serve_ticks(server_fds, a, stop, errors); });
    install_signals();

    const auto tc = Clock::now();
    while (total(&Reader::started) < a.clients && since(tc) < 5 && !interrupted)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const double cpu0 = cpu_seconds(), srv0 = thread_cpu_s(tx);
    for (auto& r : readers) r->counting = true;
    const auto t0 = Clock::now();
    while (!interrupted && since(t0) < a.seconds) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    for (auto& r : readers) r->counting = false;
    const double dt = since(t0), srv1 = thread_cpu_s(tx), cpu = cpu_seconds() - cpu0;

    stop = true;
    tx.join();
    for (auto& r : readers) r->stop = true;
    for (auto& t : rx) t.join();
    for (int fd : server_fds) ::close(fd);
    for (int fd : client_fds) ::close(fd);
    std::vector<float> delays;
    for (auto& r : readers) delays.insert(delays.end(), r->delays.begin(), r->delays.end());
    FanoutTally t{.delivered = total(&Reader::delivered), .gaps = total(&Reader::gaps), .squashed = 0,
                  .errors = errors.load(), .seconds = dt, .client_cpu_s = cpu - (srv1 - srv0),
                  .server_cpu_s = srv1 - srv0, .server_rss_kb = rss_kb()};
    return report_fanout("wire_fanout", FanoutShape{a.count, a.clients, a.rate}, t, delays, a.min_ratio);
}

}  // namespace pvwire::bench

// UdpTransport::open: one UDP socket on a strand. Receiving waits for readability and then
// drains the socket with recvmsg(), so IP_PKTINFO / IPV6_PKTINFO can tell each datagram's
// destination address; sending goes through a bounded queue (full: drop and count).
#include <pvwire/net/udp_transport.hpp>

#include <pvwire/net/detail/raw_buffer.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <utility>

#if defined(__unix__) || defined(__APPLE__)
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#define PVWIRE_UDP_POSIX 1
#endif

namespace pvwire::net {
namespace {

// Largest UDP payload, plus one so that a truncated datagram is recognized.
constexpr std::size_t receive_bytes = 65536;
// Datagrams handled per readiness notification, so one busy socket cannot starve the others
// on the same executor.
constexpr int receive_batch = 64;
// Send buffers kept for reuse.
constexpr std::size_t spare_buffers = 16;

template <class Option> void try_set(udp::socket& s, const Option& o) {
    boost::system::error_code ignored;
    s.set_option(o, ignored);
}

bool set_int_option(udp::socket& s, int level, int name, int value) {
#ifdef PVWIRE_UDP_POSIX
    return ::setsockopt(s.native_handle(), level, name, &value, sizeof value) == 0;
#else
    (void)s, (void)level, (void)name, (void)value;
    return false;
#endif
}

// The IPv4 interfaces whose membership a socket bound to `bound` takes: every multicast
// interface (and loopback) for 0.0.0.0; the interface of the address for a unicast address;
// loopback alone for a socket bound to a group address (local fan-out, as PVXS uses
// 224.0.0.128), which also keeps tests from announcing memberships on real networks.
std::vector<asio::ip::address_v4> membership_interfaces(const asio::ip::address_v4& bound) {
    const auto loopback = asio::ip::address_v4::loopback();
    if (bound.is_multicast()) return {loopback};
    if (!bound.is_unspecified()) return {bound};
    std::vector<asio::ip::address_v4> out{loopback};
#ifdef PVWIRE_UDP_POSIX
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) == 0) {
        for (auto* i = list; i; i = i->ifa_next) {
            if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
            if (!(i->ifa_flags & IFF_UP) || !(i->ifa_flags & IFF_MULTICAST) || (i->ifa_flags & IFF_LOOPBACK))
                continue;
            auto sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
            asio::ip::address_v4 a(ntohl(sin->sin_addr.s_addr));
            if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
        }
        ::freeifaddrs(list);
    }
#endif
    return out;
}

class UdpTransportImpl final : public UdpTransport {
public:
    UdpTransportImpl(asio::any_io_executor ex, const udp::endpoint& bind, const UdpOptions& options)
        : strand_(asio::make_strand(ex)), socket_(strand_), options_(options), rbuf_(receive_bytes) {
        socket_.open(bind.protocol());
        if (options.reuse_port) {
            try_set(socket_, asio::socket_base::reuse_address(true));
#ifdef SO_REUSEPORT
            set_int_option(socket_, SOL_SOCKET, SO_REUSEPORT, 1);
#endif
        }
        if (options.broadcast) try_set(socket_, asio::socket_base::broadcast(true));
        if (options.receive_buffer_bytes)
            try_set(socket_, asio::socket_base::receive_buffer_size(int(options.receive_buffer_bytes)));
#if defined(PVWIRE_UDP_POSIX) && defined(IP_PKTINFO)
        if (bind.address().is_v4()) pktinfo_ = set_int_option(socket_, IPPROTO_IP, IP_PKTINFO, 1);
#endif
#if defined(IP_MULTICAST_ALL)
        // Linux delivers a multicast to every socket bound to the port whose host joined the
        // group anywhere, unless told otherwise; we want only the groups this socket joins
        // (a host with 1000 client processes would otherwise wake all of them for every
        // search forwarded to the local fan-out group).
        if (bind.address().is_v4()) set_int_option(socket_, IPPROTO_IP, IP_MULTICAST_ALL, 0);
#endif
#if defined(PVWIRE_UDP_POSIX) && defined(IPV6_RECVPKTINFO)
        if (bind.address().is_v6()) {
            set_int_option(socket_, IPPROTO_IPV6, IPV6_V6ONLY, options.v6_only ? 1 : 0);
            pktinfo_ = set_int_option(socket_, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
        }
#endif
        socket_.bind(bind);  // throws
        if (bind.address().is_v6()) join_v6_groups();
        if (bind.address().is_v4()) {
            const auto bound = bind.address().to_v4();
            // Multicasts leave through the interface of a specific bound address.
            if (options.multicast_interface)
                try_set(socket_, asio::ip::multicast::outbound_interface(*options.multicast_interface));
            else if (!bound.is_unspecified() && !bound.is_multicast())
                try_set(socket_, asio::ip::multicast::outbound_interface(bound));
            if (!options.multicast_groups.empty()) {
                try_set(socket_, asio::ip::multicast::enable_loopback(options.multicast_loopback));
                const auto interfaces = options.multicast_interface
                                            ? std::vector<asio::ip::address_v4>{*options.multicast_interface}
                                            : membership_interfaces(bound);
                for (const auto& group : options.multicast_groups)
                    for (const auto& iface : interfaces) {
                        boost::system::error_code ec;
                        socket_.set_option(asio::ip::multicast::join_group(group, iface), ec);
                        // An interface that refuses is skipped: "joined on every interface
                        // that allows it".
                    }
            }
        }
        socket_.non_blocking(true);
        local_ = socket_.local_endpoint();
    }

    void start(Handler handler) override {
        asio::post(strand_, [self = self(), this, handler = std::move(handler)]() mutable {
            if (started_ || closed_.load()) return;
            started_ = true;
            handler_ = std::move(handler);
            wait_readable();
        });
    }

    bool send_to(std::span<const std::byte> bytes, const udp::endpoint& to, int multicast_hops) override {
        bool post_send = false;
        {
            std::lock_guard lock(mu_);
            if (closed_.load()) return false;
            if (queue_.size() >= options_.max_queued_sends) {
                dropped_.fetch_add(1, std::memory_order_relaxed);
                return false;
            }
            std::vector<std::byte> buf;
            if (!spare_.empty()) {
                buf = std::move(spare_.back());
                spare_.pop_back();
            }
            buf.assign(bytes.begin(), bytes.end());
            queue_.push_back(Outgoing{std::move(buf), to, multicast_hops});
            if (!sending_) post_send = sending_ = true;
        }
        if (post_send) asio::post(strand_, [self = self(), this] { send_next(); });
        return true;
    }

    void close() override {
        if (closed_.exchange(true)) return;
        asio::post(strand_, [self = self(), this] {
            {
                std::lock_guard lock(mu_);
                // The datagram being sent stays until its completion handler runs.
                while (queue_.size() > (sending_ ? 1u : 0u)) queue_.pop_back();
            }
            boost::system::error_code ignored;
            socket_.cancel(ignored);
            socket_.close(ignored);
            handler_ = nullptr;  // it may hold references that keep us alive
        });
    }

    udp::endpoint local_endpoint() const override { return local_; }
    std::size_t dropped_sends() const override { return dropped_.load(std::memory_order_relaxed); }
    asio::any_io_executor executor() const override { return strand_; }

private:
    struct Outgoing {
        std::vector<std::byte> bytes;
        udp::endpoint to;
        int hops = -1;
    };

    // Each group on the interface its scope id names (0: the kernel's choice). An interface
    // that refuses (no IFF_MULTICAST, gone) is skipped, as for IPv4.
    void join_v6_groups() {
        if (options_.multicast_groups_v6.empty()) return;
        try_set(socket_, asio::ip::multicast::enable_loopback(options_.multicast_loopback));
        for (const auto& group : options_.multicast_groups_v6) {
            boost::system::error_code ec;
            socket_.set_option(asio::ip::multicast::join_group(group, group.scope_id()), ec);
        }
    }

    // Before sending to a multicast group: the hop limit asked for and, for an IPv6 group
    // with a scope id, the interface it names. Remembered, so a run of datagrams to one
    // destination sets nothing twice.
    void prepare_multicast(const Outgoing& out) {
        const auto a = out.to.address();
        if (!a.is_multicast()) return;
        if (out.hops != applied_hops_) {
            // -1 puts the system default back (IPv6); for IPv4 the default TTL is 1
            const int hops = out.hops;
            if (a.is_v6())
                set_int_option(socket_, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, hops);
            else
                try_set(socket_, asio::ip::multicast::hops(hops < 0 ? 1 : hops));
            applied_hops_ = hops;
        }
        if (a.is_v6()) {
            const auto iface = a.to_v6().scope_id();
            if (iface != 0 && iface != applied_iface_) {
                try_set(socket_, asio::ip::multicast::outbound_interface(static_cast<unsigned>(iface)));
                applied_iface_ = iface;
            }
        }
    }

    std::shared_ptr<UdpTransportImpl> self() { return std::static_pointer_cast<UdpTransportImpl>(shared_from_this()); }

    void wait_readable() {
        socket_.async_wait(udp::socket::wait_read,
                           asio::bind_executor(strand_, [self = self(), this](const boost::system::error_code& ec) {
                               if (ec || closed_.load()) return;  // aborted by close()
                               receive_some();
                               if (!closed_.load()) wait_readable();
                           }));
    }

    void receive_some() {
        for (int i = 0; i < receive_batch && !closed_.load(); ++i) {
            Datagram d;
            std::size_t n = 0;
            bool truncated = false;
            if (!receive_one(d, n, truncated)) return;
            if (truncated) continue;  // larger than any UDP payload can be: not ours
            d.bytes = std::span<const std::byte>(rbuf_.data(), n);
            if (handler_) handler_(d);
        }
    }

    // False when nothing more is waiting (or the socket failed).
    bool receive_one(Datagram& d, std::size_t& n, bool& truncated) {
#if defined(PVWIRE_UDP_POSIX) && defined(IP_PKTINFO)
        if (pktinfo_) {
            sockaddr_storage from{};
            iovec iov{rbuf_.data(), rbuf_.size()};
            alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(in6_pktinfo)) + 64];
            msghdr msg{};
            msg.msg_name = &from;
            msg.msg_namelen = sizeof from;
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control;
            msg.msg_controllen = sizeof control;
            ssize_t got;
            do got = ::recvmsg(socket_.native_handle(), &msg, MSG_DONTWAIT);
            while (got < 0 && errno == EINTR);
            if (got < 0) return false;
            n = std::size_t(got);
            truncated = msg.msg_flags & MSG_TRUNC;
            d.from = endpoint_of(from);
            for (auto* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
                if (auto to = destination_of(*c)) d.to = *to;
            return true;
        }
#endif
        boost::system::error_code ec;
        n = socket_.receive_from(asio::buffer(rbuf_.data(), rbuf_.size()), d.from, 0, ec);
        if (ec) return false;
        truncated = n >= rbuf_.size();
        return true;
    }

#if defined(PVWIRE_UDP_POSIX) && defined(IP_PKTINFO)
    static udp::endpoint endpoint_of(const sockaddr_storage& from) {
        if (from.ss_family == AF_INET) {
            auto sin = reinterpret_cast<const sockaddr_in*>(&from);
            return udp::endpoint(asio::ip::address_v4(ntohl(sin->sin_addr.s_addr)), ntohs(sin->sin_port));
        }
        if (from.ss_family == AF_INET6) {
            // the scope id stays: a reply to a link-local sender must leave by its interface
            auto sin6 = reinterpret_cast<const sockaddr_in6*>(&from);
            asio::ip::address_v6::bytes_type b;
            std::memcpy(b.data(), &sin6->sin6_addr, 16);
            return udp::endpoint(asio::ip::address_v6(b, sin6->sin6_scope_id), ntohs(sin6->sin6_port));
        }
        return {};
    }

    // The address a datagram was sent to, from its IP_PKTINFO / IPV6_PKTINFO message.
    static std::optional<asio::ip::address> destination_of(const cmsghdr& c) {
        if (c.cmsg_level == IPPROTO_IP && c.cmsg_type == IP_PKTINFO) {
            in_pktinfo info;
            std::memcpy(&info, CMSG_DATA(&c), sizeof info);
            return asio::ip::address(asio::ip::address_v4(ntohl(info.ipi_addr.s_addr)));
        }
#ifdef IPV6_PKTINFO
        if (c.cmsg_level == IPPROTO_IPV6 && c.cmsg_type == IPV6_PKTINFO) {
            in6_pktinfo info;
            std::memcpy(&info, CMSG_DATA(&c), sizeof info);
            asio::ip::address_v6::bytes_type b;
            std::memcpy(b.data(), &info.ipi6_addr, 16);
            // the arrival interface as scope id where the address needs one (link-local)
            const asio::ip::address_v6 plain(b);
            const bool scoped = plain.is_link_local() || plain.is_multicast_link_local();
            return asio::ip::address(asio::ip::address_v6(b, scoped ? info.ipi6_ifindex : 0));
        }
#endif
        return std::nullopt;
    }
#endif

    void send_next() {
        Outgoing* next = nullptr;
        {
            std::lock_guard lock(mu_);
            if (queue_.empty()) {
                sending_ = false;
                return;
            }
            next = &queue_.front();  // stable: the deque only grows at the back meanwhile
        }
        prepare_multicast(*next);
        socket_.async_send_to(asio::buffer(next->bytes), next->to,
                              asio::bind_executor(strand_, [self = self(), this](const boost::system::error_code& ec,
                                                                                std::size_t) { sent(ec); }));
    }

    void sent(const boost::system::error_code& ec) {
        {
            std::lock_guard lock(mu_);
            // A failed send (unreachable, no route, ...) loses the datagram like a full queue.
            if (ec && ec != asio::error::operation_aborted) dropped_.fetch_add(1, std::memory_order_relaxed);
            if (!queue_.empty()) {
                if (spare_.size() < spare_buffers) spare_.push_back(std::move(queue_.front().bytes));
                queue_.pop_front();
            }
            if (closed_.load()) {
                queue_.clear();
                sending_ = false;
                return;
            }
        }
        send_next();
    }

    asio::strand<asio::any_io_executor> strand_;
    udp::socket socket_;
    UdpOptions options_;
    udp::endpoint local_;
    bool pktinfo_ = false;
    int applied_hops_ = -1;             // strand only: the multicast hop limit set last
    unsigned long applied_iface_ = 0;   // strand only: the IPv6 multicast interface set last
    std::atomic<bool> closed_{false};
    std::atomic<std::size_t> dropped_{0};

    // Strand only.
    Handler handler_;
    bool started_ = false;
    detail::RawBuffer rbuf_;  // one datagram at a time; not zero-filled (see raw_buffer.hpp)

    // Guarded by mu_.
    std::mutex mu_;
    std::deque<Outgoing> queue_;
    std::vector<std::vector<std::byte>> spare_;
    bool sending_ = false;
};

}  // namespace

std::shared_ptr<UdpTransport> UdpTransport::open(asio::any_io_executor ex, const udp::endpoint& bind,
                                                 const UdpOptions& options) {
    return std::make_shared<UdpTransportImpl>(std::move(ex), bind, options);
}

}  // namespace pvwire::net

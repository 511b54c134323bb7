#include <pvwire/net/interfaces.hpp>

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace pvwire::net {

namespace {

struct IfaddrsFree {
    void operator()(ifaddrs* p) const noexcept { ::freeifaddrs(p); }
};
using IfaddrsPtr = std::unique_ptr<ifaddrs, IfaddrsFree>;

IfaddrsPtr get_ifaddrs() {
    ifaddrs* head = nullptr;
    if (::getifaddrs(&head) != 0) return nullptr;
    return IfaddrsPtr(head);
}

asio::ip::address_v4 v4_of(const sockaddr* sa) {
    asio::ip::address_v4::bytes_type b{};
    if (sa && sa->sa_family == AF_INET)
        std::memcpy(b.data(), &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
    return asio::ip::address_v4(b);
}

}  // namespace

std::vector<InterfaceInfo> list_interfaces() {
    std::vector<InterfaceInfo> out;
    auto head = get_ifaddrs();
    for (auto* ifa = head.get(); ifa; ifa = ifa->ifa_next) {
        if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != AF_INET) continue;
        InterfaceInfo info;
        info.name = ifa->ifa_name ? ifa->ifa_name : "";
        info.index = info.name.empty() ? 0u : ::if_nametoindex(info.name.c_str());
        info.address = v4_of(ifa->ifa_addr);
        info.netmask = v4_of(ifa->ifa_netmask);
        info.up = (ifa->ifa_flags & IFF_UP) != 0;
        info.loopback = (ifa->ifa_flags & IFF_LOOPBACK) != 0;
        info.can_broadcast = (ifa->ifa_flags & IFF_BROADCAST) != 0;
        info.multicast = (ifa->ifa_flags & IFF_MULTICAST) != 0;
        if (info.can_broadcast) {
            // ifa_broadaddr is the union member for IFF_BROADCAST; compute it if missing.
            if (ifa->ifa_broadaddr && ifa->ifa_broadaddr->sa_family == AF_INET)
                info.broadcast = v4_of(ifa->ifa_broadaddr);
            else
                info.broadcast = asio::ip::address_v4(info.address.to_uint() | ~info.netmask.to_uint());
        }
        out.push_back(std::move(info));
    }
    return out;
}

std::vector<asio::ip::address_v4> broadcast_addresses(const std::vector<asio::ip::address>& of) {
    bool all = of.empty();
    for (const auto& a : of) {
        if (a.is_v4() && a.to_v4().is_unspecified()) all = true;
        if (a.is_v6() && a.to_v6().is_unspecified()) all = true;  // [::] listens on IPv4 too
    }
    std::vector<asio::ip::address_v4> out;
    for (const auto& info : list_interfaces()) {
        if (!info.up || info.loopback || !info.can_broadcast || !info.broadcast) continue;
        if (!all) {
            const bool wanted = std::any_of(of.begin(), of.end(), [&](const asio::ip::address& a) {
                if (a.is_v4()) return a.to_v4() == info.address;
                const auto v6 = a.to_v6();
                return v6.is_v4_mapped() && asio::ip::make_address_v4(asio::ip::v4_mapped, v6) == info.address;
            });
            if (!wanted) continue;
        }
        if (std::find(out.begin(), out.end(), *info.broadcast) == out.end()) out.push_back(*info.broadcast);
    }
    return out;
}

std::vector<asio::ip::address_v4> broadcast_addresses() { return broadcast_addresses({}); }

bool is_local_address(const asio::ip::address& a_in) {
    asio::ip::address a = a_in;
    if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
    auto head = get_ifaddrs();
    for (auto* ifa = head.get(); ifa; ifa = ifa->ifa_next) {
        if (!ifa->ifa_addr) continue;
        if (ifa->ifa_addr->sa_family == AF_INET && a.is_v4()) {
            if (v4_of(ifa->ifa_addr) == a.to_v4()) return true;
        } else if (ifa->ifa_addr->sa_family == AF_INET6 && a.is_v6()) {
            asio::ip::address_v6::bytes_type b;
            std::memcpy(b.data(), &reinterpret_cast<const sockaddr_in6*>(ifa->ifa_addr)->sin6_addr, 16);
            if (asio::ip::address_v6(b) == asio::ip::address_v6(a.to_v6().to_bytes())) return true;
        }
    }
    return false;
}

unsigned interface_index(const std::string& name_or_address) {
    if (name_or_address.empty()) return 0;
    if (const unsigned by_name = ::if_nametoindex(name_or_address.c_str())) return by_name;
    boost::system::error_code ec;
    const auto a = asio::ip::make_address(name_or_address, ec);
    if (ec) return 0;
    auto head = get_ifaddrs();
    for (auto* ifa = head.get(); ifa; ifa = ifa->ifa_next) {
        if (!ifa->ifa_addr || !ifa->ifa_name) continue;
        bool same = false;
        if (ifa->ifa_addr->sa_family == AF_INET && a.is_v4()) same = v4_of(ifa->ifa_addr) == a.to_v4();
        if (ifa->ifa_addr->sa_family == AF_INET6 && a.is_v6()) {
            asio::ip::address_v6::bytes_type b;
            std::memcpy(b.data(), &reinterpret_cast<const sockaddr_in6*>(ifa->ifa_addr)->sin6_addr, 16);
            same = b == a.to_v6().to_bytes();
        }
        if (same) return ::if_nametoindex(ifa->ifa_name);
    }
    return 0;
}

std::vector<asio::ip::address_v6> ipv6_groups(const std::vector<asio::ip::address>& addresses) {
    std::vector<asio::ip::address_v6> out;
    for (const auto& a : addresses)
        if (a.is_v6() && a.is_multicast() && std::find(out.begin(), out.end(), a.to_v6()) == out.end())
            out.push_back(a.to_v6());
    return out;
}

std::string host_name() {
    char host[256] = {};
    return ::gethostname(host, sizeof host - 1) == 0 ? std::string(host) : std::string();
}

}  // namespace pvwire::net

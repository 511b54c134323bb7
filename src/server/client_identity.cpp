#include "client_identity.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>

namespace pvwire::server::detail {

namespace {
// getpwuid_r/getgrgid_r want a buffer; their suggested size, or a generous default.
std::vector<char> nss_buffer(int which) {
    const long n = ::sysconf(which);
    return std::vector<char>(n > 0 ? std::size_t(n) : 16384);
}

std::string group_name(gid_t gid) {
    auto buf = nss_buffer(_SC_GETGR_R_SIZE_MAX);
    struct group g {};
    struct group* found = nullptr;
    if (::getgrgid_r(gid, &g, buf.data(), buf.size(), &found) == 0 && found) return found->gr_name;
    return std::to_string(gid);
}
}  // namespace

std::pair<std::string, std::vector<std::string>> local_account(unsigned uid, std::optional<unsigned> gid) {
    auto buf = nss_buffer(_SC_GETPW_R_SIZE_MAX);
    struct passwd pw {};
    struct passwd* found = nullptr;
    if (::getpwuid_r(uid_t(uid), &pw, buf.data(), buf.size(), &found) != 0 || !found) {
        std::vector<std::string> roles;
        if (gid) roles.push_back(group_name(gid_t(*gid)));
        return {std::to_string(uid), std::move(roles)};
    }
    const std::string name = found->pw_name;
    const gid_t primary = gid ? gid_t(*gid) : found->pw_gid;
    // a first guess, then the size getgrouplist() asks for (it says how many there are)
    int count = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(count));
    if (::getgrouplist(name.c_str(), primary, groups.data(), &count) < 0) {
        groups.resize(static_cast<std::size_t>(std::max(count, 1)));
        if (::getgrouplist(name.c_str(), primary, groups.data(), &count) < 0) {
            groups.assign(1, primary);
            count = 1;
        }
    }
    groups.resize(static_cast<std::size_t>(count));
    std::vector<std::string> roles;
    for (gid_t g : groups) {
        std::string n = group_name(g);
        if (std::find(roles.begin(), roles.end(), n) == roles.end()) roles.push_back(std::move(n));
    }
    return {name, std::move(roles)};
}

ClientIdentity client_identity(const net::PeerFacts& facts, const protocol::PeerCredentials& handshake) {
    ClientIdentity id;
    id.protocol = facts.tls ? Protocol::tls : Protocol::tcp;
    id.address = facts.ip;
    if (facts.local) {
        id.address = "127.0.0.1";  // the local host, as a HAG names it
        if (facts.uid) {
            id.method = "ca";
            std::tie(id.user, id.roles) = local_account(*facts.uid, facts.gid);
            return id;
        }
    }
    if (facts.tls && !facts.cert_subject.empty()) {
        id.method = "x509";
        id.user = facts.cert_subject;
        id.authority = facts.cert_issuer;
        return id;
    }
    id.method = handshake.method == "ca" ? "ca" : "anonymous";
    if (id.method == "ca") id.user = handshake.user;
    return id;
}

ClientIdentity web_identity(const net::HttpIdentity& who) {
    ClientIdentity id;
    id.address = who.peer_host;
    if (who.user) {
        id.method = "ca";
        id.user = *who.user;
    }
    return id;
}

}  // namespace pvwire::server::detail

// The parsed form of an ACF and a pattern list: what the ACF parser (acf_parser.cpp) and the
// pattern list parser (pv_pattern_list.cpp) build and AccessRules (access_rules.cpp) answers
// from. Private to the library.
#pragma once

#include "pv_pattern_list.hpp"

#include <pvwire/server/access_rules.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace pvwire::server {

/// An IPv4 or IPv6 address; IPv4 as its IPv4-mapped IPv6 form, so that a client reaching an
/// IPv6 socket from "::ffff:10.0.0.5" matches a HAG entry "10.0.0.5".
using IpAddress = std::array<std::uint8_t, 16>;

/// The address in `text`: "10.0.0.5", "::1", "fe80::1%eth0", or with a port, "10.0.0.5:5075"
/// and "[::1]:5075". nullopt when it is not an address (a host name, say).
std::optional<IpAddress> parse_ip_address(std::string_view text);

/// Whether `a` and `b` are equal but for the case of ASCII letters.
bool equal_ignoring_case(std::string_view a, std::string_view b);

/// "FILE:LINE:COLUMN: text", leaving out a zero line or column.
std::string place_text(const std::string& source, int line, int column, const std::string& text);

struct AccessRules::Model {
    struct Place {
        int line = 0;
        int column = 0;
    };
    struct Uag {
        std::string name;
        Place at;
        std::unordered_set<std::string> users;  // and "role/NAME" entries
    };
    struct HostEntry {
        std::string host;  // as written: a name or an address
        Place at;
    };
    struct Hag {
        std::string name;
        Place at;
        std::vector<HostEntry> hosts;
        std::vector<IpAddress> addresses;  // the hosts, resolved when the rules are made
    };
    struct Rule {
        Place at;
        int level = 0;             // applies to PVs with ASL <= level
        std::string keyword;       // NONE, READ, WRITE, RPC, PUT or UNCACHED: for messages
        AccessRights grants;
        bool trap_write = false;
        std::vector<std::size_t> uags;  // indices in Model::uags; empty: any user
        std::vector<std::size_t> hags;  // indices in Model::hags; empty: any host
        std::vector<std::string> methods;      // empty: any method
        std::vector<std::string> authorities;  // empty: any; else x509 clients of these issuers
        std::vector<Protocol> protocols;       // empty: any
        bool calc = false;                     // CALC is not evaluated: the rule never grants
    };
    struct Asg {
        std::string name;
        Place at;  // line 0: the implicit DEFAULT
        std::vector<Rule> rules;
    };

    std::string source;
    std::vector<Uag> uags;
    std::vector<Hag> hags;
    std::vector<Asg> asgs;
    std::map<std::string, std::size_t, std::less<>> asg_index;  // name -> asgs index
    std::size_t default_asg = 0;                                // DEFAULT's index, always present
    std::optional<PvPatternList> patterns;
    std::vector<std::string> warnings;

    void warn(const Place& at, const std::string& text) {
        warnings.push_back(place_text(source, at.line, at.column, text));
    }
};

/// Reads `text` (named `source` in messages) into `into`: groups and rules with their UAG and
/// HAG references resolved to indices, DEFAULT present (empty when the text has none), HAG
/// hosts not yet resolved. Throws AccessRulesError at the first error.
void parse_acf(std::string_view text, const std::string& source, AccessRules::Model& into);

}  // namespace pvwire::server

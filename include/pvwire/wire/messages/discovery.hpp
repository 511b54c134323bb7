/// @file
/// UDP discovery and liveness messages: BEACON, SEARCH, SEARCH_RESPONSE, ORIGIN_TAG
/// (protocol.md §4.6-4.8, §4.23).
#pragma once

#include <pvwire/data/value.hpp>
#include <pvwire/wire/basic_types.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace pvwire::wire {

/// BEACON: a server announces itself over UDP.
struct Beacon {
    Guid guid;                  ///< the server instance
    std::uint8_t flags = 0;     ///< reserved
    std::uint8_t sequence = 0;  ///< counts beacons, wrapping
    std::uint16_t change_count = 0;  ///< changes when the set of served names changes
    Address server_address = Address::mapped_any();  ///< where to connect; mapped_any(): the datagram's source
    std::uint16_t server_port = 5075;  ///< TCP port of the server
    std::string protocol = "tcp";  ///< transport of the server port
    Value server_status;        ///< null: the null type 0xFF
    bool has_status = true;     ///< false when the sender stopped after the protocol
};

/// One name searched for, with the client's channel id.
struct SearchChannel {
    std::uint32_t cid = 0;  ///< the client's channel id
    std::string name;       ///< the PV name
    /// Same cid and name.
    friend bool operator==(const SearchChannel&, const SearchChannel&) = default;
};

/// SEARCH: a client looks for channel names (UDP, or TCP to a name server).
struct Search {
    static constexpr std::uint8_t reply_required = 0x01;  ///< flags bit: servers that lack the names reply too
    static constexpr std::uint8_t unicast = 0x80;         ///< flags bit: sent unicast

    std::uint32_t sequence = 0;                 ///< the search id, returned in the responses
    std::uint8_t flags = 0;                     ///< reply_required, unicast
    std::array<std::uint8_t, 3> reserved{};     ///< three reserved bytes, kept as received
    Address response_address;                   ///< where to send responses; unspecified: the datagram's source
    std::uint16_t response_port = 0;            ///< UDP port for responses
    std::vector<std::string> protocols{"tcp"};  ///< transports the client accepts
    std::vector<SearchChannel> channels;        ///< the names searched for
};

/// SEARCH_RESPONSE: a server answers a search.
struct SearchResponse {
    Guid guid;                        ///< the server instance
    std::uint32_t sequence = 0;       ///< the search's id
    Address server_address = Address::mapped_any();  ///< where to connect; mapped_any(): the datagram's source
    std::uint16_t server_port = 0;    ///< TCP port of the server
    std::string protocol = "tcp";     ///< transport of the server port
    bool found = false;               ///< false: a reply to a reply_required search for names not served
    std::vector<std::uint32_t> cids;  ///< the channel ids of the names found
};

/// ORIGIN_TAG: precedes a search forwarded to the host's other servers.
struct OriginTag {
    Address address;  ///< the address the forwarded search was originally sent to
};

}  // namespace pvwire::wire

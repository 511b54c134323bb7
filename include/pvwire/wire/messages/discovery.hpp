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

struct Beacon {
    Guid guid;
    std::uint8_t flags = 0;
    std::uint8_t sequence = 0;
    std::uint16_t change_count = 0;
    Address server_address = Address::mapped_any();
    std::uint16_t server_port = 5075;
    std::string protocol = "tcp";
    Value server_status;        ///< null: the null type 0xFF
    bool has_status = true;     ///< false when the sender stopped after the protocol
};

struct SearchChannel {
    std::uint32_t cid = 0;
    std::string name;
    friend bool operator==(const SearchChannel&, const SearchChannel&) = default;
};

struct Search {
    static constexpr std::uint8_t reply_required = 0x01;
    static constexpr std::uint8_t unicast = 0x80;

    std::uint32_t sequence = 0;
    std::uint8_t flags = 0;
    std::array<std::uint8_t, 3> reserved{};
    Address response_address;
    std::uint16_t response_port = 0;
    std::vector<std::string> protocols{"tcp"};
    std::vector<SearchChannel> channels;
};

struct SearchResponse {
    Guid guid;
    std::uint32_t sequence = 0;
    Address server_address = Address::mapped_any();
    std::uint16_t server_port = 0;
    std::string protocol = "tcp";
    bool found = false;
    std::vector<std::uint32_t> cids;
};

struct OriginTag {
    Address address;
};

}  // namespace pvwire::wire

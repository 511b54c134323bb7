#include <pvwire/wire/basic_types.hpp>
#include <pvwire/detail/header_only.hpp>

#include <cstdio>

namespace pvwire::wire {

PVWIRE_DECL std::string Status::to_string() const {
    static const char* const names[] = {"OK", "WARNING", "ERROR", "FATAL"};
    std::string s = names[std::size_t(type) & 3];
    if (!message.empty()) s += " \"" + message + "\"";
    return s;
}

PVWIRE_DECL std::string Address::to_string() const {
    char buf[64];
    if (is_ipv4_mapped()) {
        std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", bytes[12], bytes[13], bytes[14], bytes[15]);
        return buf;
    }
    std::string s;
    for (std::size_t i = 0; i < 16; i += 2) {
        if (i) s += ':';
        std::snprintf(buf, sizeof buf, "%x", unsigned(bytes[i] << 8 | bytes[i + 1]));
        s += buf;
    }
    return s;
}

PVWIRE_DECL std::string Guid::to_string() const {
    std::string s;
    char buf[4];
    for (auto b : bytes) {
        std::snprintf(buf, sizeof buf, "%02x", b);
        s += buf;
    }
    return s;
}

}  // namespace pvwire::wire

#include <pvwire/version.hpp>

namespace pvwire {

const char* version_string() noexcept {
    return PVWIRE_VERSION_STRING;
}

} // namespace pvwire

#pragma once

/// @file
/// Library version. The numbers come from the CMake project version through the generated
/// header pvwire/detail/config.hpp (build tree: `<build>/generated/include`, installed next to
/// this header).

#include <pvwire/detail/config.hpp>

namespace pvwire {

inline constexpr int version_major = PVWIRE_VERSION_MAJOR;
inline constexpr int version_minor = PVWIRE_VERSION_MINOR;
inline constexpr int version_patch = PVWIRE_VERSION_PATCH;

/// "major.minor.patch" of the compiled library, e.g. "0.1.0".
const char* version_string() noexcept;

} // namespace pvwire

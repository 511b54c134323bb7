#include <pvwire/wire/error.hpp>
#include <pvwire/detail/header_only.hpp>

namespace pvwire::wire {

PVWIRE_IMPL_NAMESPACE(error_impl) {
struct WireCategory final : std::error_category {
    const char* name() const noexcept override { return "pvwire.wire"; }
    std::string message(int e) const override {
        switch (errc(e)) {
        case errc::ok: return "ok";
        case errc::truncated: return "truncated";
        case errc::bad_magic: return "bad magic byte";
        case errc::bad_version: return "bad protocol version";
        case errc::too_large: return "size exceeds limit";
        case errc::bad_size: return "invalid size encoding";
        case errc::bad_type_code: return "invalid type code";
        case errc::nesting_too_deep: return "nesting too deep";
        case errc::unknown_cache_key: return "unknown type cache key";
        case errc::bad_union_selector: return "invalid union selector";
        case errc::bad_utf8: return "invalid UTF-8";
        case errc::bad_segment: return "segmentation out of sequence";
        case errc::bad_direction: return "wrong direction flag";
        case errc::unknown_command: return "unknown command";
        case errc::unknown_operation: return "unknown operation";
        case errc::trailing_bytes: return "trailing bytes";
        case errc::bad_value: return "invalid value";
        case errc::unexpected_command: return "unexpected command";
        }
        return "unknown wire error";
    }
};
}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(error_impl)

PVWIRE_DECL const std::error_category& category() noexcept {
    static const WireCategory c;
    return c;
}

PVWIRE_DECL std::string Diagnostic::message() const {
    if (!code) return "ok";
    std::string m = code.message() + " at byte " + std::to_string(offset);
    if (!field.empty()) m += " in " + field;
    if (!detail.empty()) m += " (" + detail + ")";
    return m;
}

}  // namespace pvwire::wire

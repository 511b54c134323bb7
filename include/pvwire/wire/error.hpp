/// @file
/// Codec errors: an error code from the pvwire "wire" category, and a diagnostic naming the
/// field and the byte offset where decoding stopped.
#pragma once

#include <cstddef>
#include <string>
#include <system_error>

namespace pvwire::wire {

/// The codec's error codes (category(): "pvwire.wire").
enum class errc {
    ok = 0,
    truncated = 1,           ///< fewer bytes than the encoding needs
    bad_magic,               ///< header byte 0 is not 0xCA
    bad_version,             ///< header version 0
    too_large,               ///< a size beyond the configured limit
    bad_size,                ///< a Size encoding that is invalid here (e.g. 0xFF for a count)
    bad_type_code,           ///< unknown or unsupported type code
    nesting_too_deep,        ///< type or value nested deeper than the limit
    unknown_cache_key,       ///< 0xFE reference to a key never defined
    bad_union_selector,      ///< selector >= member count
    bad_utf8,                ///< invalid UTF-8 where text is required
    bad_segment,             ///< segmentation flags out of sequence
    bad_direction,           ///< direction flag not what the receiver expects
    unknown_command,         ///< command byte we do not know
    unknown_operation,       ///< data for an ioid whose type is not known
    trailing_bytes,          ///< bytes left over after a message that must end exactly
    bad_value,               ///< a value that breaks a rule of its message (e.g. null element flag)
    unexpected_command,      ///< typed decode: the header announces another message than asked for
};

/// The error category of errc.
const std::error_category& category() noexcept;
/// An errc as a std::error_code.
inline std::error_code make_error_code(errc e) noexcept { return {int(e), category()}; }

/// What went wrong, where. Allocates only on failure.
struct Diagnostic {
    std::error_code code;     ///< what went wrong (empty: nothing)
    std::size_t offset = 0;   ///< byte offset from the start of the decoded span
    std::string field;        ///< what was being decoded: "GET response: status", "type of 'value'"
    std::string detail;       ///< extra text: "count 70000 exceeds 12 remaining bytes"

    /// Whether a failure was recorded.
    explicit operator bool() const noexcept { return bool(code); }
    /// "truncated at byte 14 in GET response: status (need 1 byte, 0 left)"
    std::string message() const;
};

/// Thrown by the throwing conveniences only; the codec itself returns Diagnostics.
class DecodeError : public std::system_error {
public:
    /// The failure `d`; what() is d.message().
    explicit DecodeError(const Diagnostic& d) : std::system_error(d.code, d.message()), diag_(d) {}
    /// The failure, with its offset and field.
    const Diagnostic& diagnostic() const noexcept { return diag_; }

private:
    Diagnostic diag_;
};

}  // namespace pvwire::wire

template <> struct std::is_error_code_enum<pvwire::wire::errc> : std::true_type {};

#ifdef PVWIRE_HEADER_ONLY
#include <pvwire/wire/impl/error.ipp>
#endif

/// @file
/// pvRequest (protocol.md §5): the text syntax, field selection masks and record options.
///
/// A pvRequest is an ordinary structure sent with every operation INIT:
///
/// @code{.unparsed}
///     structure
///         structure field            which fields the client wants (empty = all)
///             structure value
///             structure alarm
///                 structure severity
///         structure record           only when options were given
///             structure _options
///                 string pipeline "true"
///                 string queueSize "4"
/// @endcode
///
/// Nothing here throws: errors come back through the `error` / `warnings` out-parameters.
#pragma once

#include <pvwire/data/bitset.hpp>
#include <pvwire/data/type_desc.hpp>
#include <pvwire/data/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pvwire::protocol {

// ---- text -> structure ---------------------------------------------------------------------
///
/// Parses the request text that pvxget -r / pvget -r accept and builds the structure exactly as
/// the PVXS client does, so a PVXS-syntax request gives the bytes a PVXS client sends:
///
/// @code{.unparsed}
///   ""  (or only blanks)               { field {} }                       (PVXS; pvDataCPP: {})
///   "field(value,alarm)"               { field { value {} alarm {} } }
///   "value,alarm"  /  "value alarm"    the same (a bare list means field(...))
///   "field(alarm.severity)"            { field { alarm { severity {} } } }
///   "field(alarm{severity,status})"    pvDataCPP brace form of alarm.severity,alarm.status
///   "record[queueSize=4,pipeline=true]field()"
///                                      { field {} record { _options { string pipeline "true"
///                                                                     string queueSize "4" } } }
///   "field(value[opt=x])"              { field { value { _options { string opt "x" } } } }
///   "putField(value)getField(value,alarm)"
///                                      { getField { value {} alarm {} } putField { value {} } }
///                                      (pvDataCPP layout: PUT_GET requests)
/// @endcode
///
/// Layout rules (PVXS clientreq.cpp, pvDataCPP createRequest.cpp for the PVXS-less parts):
///  * top-level members in the order field, getField, putField, record. `field` is always
///    present (possibly empty) unless the text names only getField/putField; `record` only
///    when at least one record option was given.
///  * paths merge: "value,value,alarm.status,alarm" gives { value {} alarm { status {} } };
///    children keep the order of first mention; empty path components ("a..b", ".a") are
///    skipped, as PVXS does.
///  * options (record and per-field) are string fields sorted by name (PVXS keeps them in a
///    std::map); a key given twice keeps its last value. Per-field `_options` is the first
///    member of its field's structure.
///  * names are [A-Za-z0-9_]+; option values are any run of characters other than blanks and
///    , [ ] ( ) { } = (so "ackAny=50%" works; PVXS itself only takes name characters there).
///  * blanks (space, tab, CR, LF) may separate any tokens; `field`, `record`, `getField` and
///    `putField` are keywords and must be followed by their bracket.
///
/// On error returns a null Value and, if `error` is given, a message naming the 1-based column:
/// "unexpected ')' at column 12", "missing ')' to close 'field(' from column 1 at column 20".
/// Requests nesting deeper than 20 levels in total (the PVXS decoder limit) are refused.
Value parse_pv_request(std::string_view text, std::string* error = nullptr);

// ---- structure -> text ---------------------------------------------------------------------
///
/// The text form of a pvRequest, for logs: "field(value,alarm.severity)record[queueSize=4]".
/// Nested selections are written as dotted paths, per-field options as "value[opt=x]", option
/// values through Value::as<std::string>. parse_pv_request() of the result rebuilds the same
/// structure for anything parse_pv_request() produces (an empty top structure, the pvDataCPP
/// empty request, prints as ""). Unusual members are still shown: a top-level structure other
/// than field/getField/putField/record as "name(...)", a non-structure as "name=value".
/// A null Value gives "".
std::string pv_request_text(const Value& pv_request);

// ---- field selection (PVXS "mask style", protocol.md §5.3) --------------------------------

struct FieldMask {
    BitSet selected;   ///< bit per field offset of the operation's (full) type; bit 0 always set
    bool all = false;  ///< everything is selected (absent/empty selection, or nothing matched)
};

/// The selection a pvRequest makes on `type` (PVXS request2mask), read from the member named
/// `sub` of the request ("field"; "getField" / "putField" for the two halves of PUT_GET):
///  * bit 0 is always set (the top structure is always permitted);
///  * every structure node under `sub`, at any depth, whose path names an existing field of
///    `type` sets that field's bit; if that request node has no children (not counting
///    `_options`) and the field is a structure, all bits below it are set too. So
///    field(alarm.status) on NTScalar gives {0, 2, 4}: the alarm node and alarm.status.
///    Paths that do not exist are ignored (alarm.bogus still sets alarm's bit, like PVXS);
///    paths never descend into unions or structure arrays (they are single offsets).
///  * `sub` absent, not given a structure request, or an empty structure: everything.
///  * nothing but bit 0 selected: everything (all = true).
///  * `sub` present but not a structure, or non-empty but naming no existing field at all:
///    error "pvRequest must select at least one field" (nullopt; *error set if given).
/// A `type` that is not a structure has one offset; the result is then {0}, all.
std::optional<FieldMask> request_field_mask(const TypeDesc& type, const Value& pv_request,
                                            std::string* error = nullptr,
                                            std::string_view sub = "field");
/// The same, returning only the bits.
std::optional<BitSet> request_mask(const TypeDesc& type, const Value& pv_request,
                                   std::string* error = nullptr, std::string_view sub = "field");

/// The bits to put in a partial value: which of the `changed` fields may be sent under `mask`
/// (a request_mask() result) on `type`. A changed bit stands for its whole subtree (as on the
/// wire). The rule: a field is sent whole (its bit alone) when it and every field below it are
/// in the mask ("fully masked"); a changed field that is not fully masked is replaced by the
/// fully masked fields below it (recursively), so nothing outside the mask is ever sent:
///  * changed leaf with its mask bit set -> sent; mask bit clear -> dropped;
///  * changed structure whose subtree is entirely in the mask -> the structure bit alone;
///  * changed structure with a partial mask (bit 0 with field(value,alarm), or alarm with
///    field(alarm.status)) -> the maximal fully masked fields below it ({1, 2}, resp. {4}).
///    A masked structure with no masked field below it (alarm with field(alarm.bogus)) sends
///    nothing: PVXS would send the whole structure if its own bit were marked.
///  * bits already covered by a structure being sent are dropped (they would be skipped on
///    the wire anyway), as are bits beyond the type's offsets.
/// With an all-selecting mask the result is `changed` minus such covered bits. An empty result
/// means "nothing selected changed" (a MONITOR update that need not be sent).
BitSet apply_mask(const BitSet& changed, const BitSet& mask, const TypeDesc& type);

// ---- record options (protocol.md §5.2) ------------------------------------------------------

struct RequestOptions {
    std::optional<std::uint32_t> queue_size;  ///< record._options.queueSize (>= 2)
    bool pipeline = false;                    ///< record._options.pipeline
    /// record._options.ackAny as a count. A percentage "N%" (0 < N <= 100) is resolved against
    /// queue_size, or against 4 (the PVXS default) when queueSize was not given; the raw
    /// percentage is kept in ack_any_percent for callers that know their real queue size.
    std::optional<std::uint32_t> ack_any;
    std::optional<double> ack_any_percent;
    std::optional<std::string> process;  ///< record._options.process ("true", "false", "passive")
    bool block = false;                  ///< record._options.block
    /// Every other option, in the request's order, value converted to text (DBE, atomic ...).
    std::vector<std::pair<std::string, std::string>> others;
};

/// Reads `record._options.*`. Values may be strings (what the text parsers send), integers or
/// booleans: numbers through Value::as<uint32_t> (a string "4", "4.0" or an integer field),
/// booleans through Value::as<bool> ("true"/"false"/"1"/"0", any number, a bool field).
/// Unusable values are ignored with a message appended to *warnings (if given), e.g.
/// "record._options.queueSize=1 ignored: must be at least 2" (as PVXS does), a pipeline that is
/// not a boolean, an ackAny that is neither a count nor a percentage, or ackAny = 0.
/// A missing or malformed record/_options gives the defaults.
RequestOptions request_options(const Value& pv_request, std::vector<std::string>* warnings = nullptr);

}  // namespace pvwire::protocol

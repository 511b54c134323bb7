// libFuzzer target: the two readers of pvData types, parse_type_text() (type_text.hpp) and
// type_from_json_schema() (json_schema.hpp).
//
// Input: byte 0 picks the reader (bit 0: 0 the compact text, 1 JSON Schema); the rest is the
// text. SchemaError is the expected refusal; any other exception, a crash or a hang is a
// finding. A type that was read must survive format_type_text() and parse_type_text() back to
// an equal type; a mismatch aborts.
#include <pvwire/data/json_schema.hpp>
#include <pvwire/data/type_text.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace pvwire;

namespace {

[[noreturn]] void fail(const char* what, const std::string& text) {
    std::fprintf(stderr, "fuzz_type_schema: %s\n%s\n", what, text.c_str());
    std::abort();
}

void round_trip(const TypePtr& type) {
    const std::string text = format_type_text(*type);
    TypePtr again;
    try {
        again = parse_type_text(text);
    } catch (const SchemaError& e) {
        fail(e.what(), text);
    }
    if (!same_type(type, again)) fail("format_type_text() does not read back to the same type", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    TypePtr type;
    try {
        type = (data[0] & 1) ? type_from_json_schema(text) : parse_type_text(text);
    } catch (const SchemaError&) {
        return 0;
    }
    round_trip(type);
    return 0;
}

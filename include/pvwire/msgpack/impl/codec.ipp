// The msgpack codec (schema: docs/msgpack.md). Encoding packs straight into the caller's
// vector with msgpack-cxx's packer. Decoding runs in two steps:
//   1. a msgpack::parse pass with a counting visitor checks that the input is one complete
//      msgpack object, not nested deeper than kMaxMsgpackDepth, whose containers together
//      claim no more elements than there are bytes (every element takes at least one byte);
//      this bounds what step 2 allocates (msgpack-cxx allocates a container's element table
//      as soon as it reads the header) to a small multiple of the input size;
//   2. msgpack::unpack builds the object tree (str/bin/ext reference the input, no copies)
//      and the decoder below walks it guided by the pvData type, mirroring the pva codec in
//      include/pvwire/wire/impl/value_codec.ipp.
#include <pvwire/msgpack/codec.hpp>
#include <pvwire/msgpack/detail/object_codec.hpp>
#include <pvwire/detail/header_only.hpp>

#include <msgpack.hpp>

#include <boost/container/small_vector.hpp>

#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace pvwire::msgpack_codec {

PVWIRE_IMPL_NAMESPACE(codec_impl) {

using pvwire::detail::Number;
using pvwire::detail::Slot;
using pvwire::detail::UnionSlot;
using pvwire::detail::ValueStore;

// Nesting of msgpack containers allowed in a document: each pvData level costs at most
// three (type map, member list, member pair), plus the document and value wrappers.
constexpr std::size_t kMaxMsgpackDepth = 4 * max_depth + 8;
constexpr std::size_t kMaxMsgpackLength = std::numeric_limits<std::uint32_t>::max();

constexpr bool kLittleEndian = std::endian::native == std::endian::little;

PVWIRE_DECL bool is_simple_code(TypeCode c) noexcept {
    const auto raw = type_code::raw(c);
    if (!type_code::is_valid(raw) || c == TypeCode::BoundedString) return false;
    if (c == TypeCode::Struct || c == TypeCode::Union || c == TypeCode::StructA ||
        c == TypeCode::UnionA)
        return false;
    const ArrayKind ak = type_code::array_kind(raw);
    return ak == ArrayKind::Scalar || ak == ArrayKind::Variable;
}

PVWIRE_DECL bool is_compound_code(TypeCode c) noexcept {
    return type_code::is_compound(type_code::element_of(c));
}

// Shared descriptions of the types that the code alone describes (no allocation per decode).
PVWIRE_DECL const TypePtr& simple_type(TypeCode c) {
    static const std::array<TypePtr, 256> table = [] {
        std::array<TypePtr, 256> t{};
        for (unsigned raw = 0; raw < 256; ++raw) {
            const TypeCode code = TypeCode(raw);
            if (!is_simple_code(code)) continue;
            t[raw] = type_code::is_array(code) ? TypeDesc::array(type_code::element_of(code))
                                               : TypeDesc::scalar(code);
        }
        return t;
    }();
    return table[type_code::raw(c)];
}

PVWIRE_DECL std::string hex_code(std::uint64_t c) {
    static const char digits[] = "0123456789abcdef";
    std::string s = "0x";
    if (c > 0xFF) return std::to_string(c);
    s += digits[(c >> 4) & 15];
    s += digits[c & 15];
    return s;
}

// ---- encoding ---------------------------------------------------------------------------

using detail::ByteSink;
using detail::Packer;

// msgpack-cxx 4.1's pack_float/pack_double write integral values as integers (losing -0.0
// and the float kind), so floats are written here: 0xca/0xcb and the big-endian IEEE bits.
PVWIRE_DECL void pack_float32(ByteSink& sink, float f) {
    std::uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    const char buf[5] = {char(0xca), char(bits >> 24), char(bits >> 16), char(bits >> 8), char(bits)};
    sink.write(buf, sizeof buf);
}
PVWIRE_DECL void pack_float64(ByteSink& sink, double d) {
    std::uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    char buf[9];
    buf[0] = char(0xcb);
    for (int i = 0; i < 8; ++i) buf[1 + i] = char(bits >> (56 - 8 * i));
    sink.write(buf, sizeof buf);
}

PVWIRE_DECL void pack_str(Packer& pk, std::string_view s) {
    if (s.size() > kMaxMsgpackLength)
        throw ValueError("pvwire msgpack: string of " + std::to_string(s.size()) +
                         " bytes is longer than msgpack allows");
    pk.pack_str(std::uint32_t(s.size()));
    pk.pack_str_body(s.data(), std::uint32_t(s.size()));
}

PVWIRE_DECL void pack_type(Packer& pk, const TypeDesc& t) {
    const TypeCode c = t.code();
    const auto raw = type_code::raw(c);
    if (c == TypeCode::Struct || c == TypeCode::Union) {
        pk.pack_map(t.id().empty() ? 2 : 3);
        pack_str(pk, "c");
        pk.pack_uint8(raw);
        if (!t.id().empty()) {
            pack_str(pk, "id");
            pack_str(pk, t.id());
        }
        pack_str(pk, "m");
        pk.pack_array(std::uint32_t(t.member_count()));
        for (std::size_t i = 0; i < t.member_count(); ++i) {
            pk.pack_array(2);
            pack_str(pk, t.member_name(i));
            pack_type(pk, *t.member_type(i));
        }
    } else if (c == TypeCode::StructA || c == TypeCode::UnionA) {
        pk.pack_map(2);
        pack_str(pk, "c");
        pk.pack_uint8(raw);
        pack_str(pk, "e");
        pack_type(pk, *t.element());
    } else if (!is_simple_code(c)) {  // bounded string, bounded and fixed arrays
        pk.pack_map(2);
        pack_str(pk, "c");
        pk.pack_uint8(raw);
        pack_str(pk, "b");
        pk.pack_uint32(t.bound());
    } else {
        pk.pack_uint8(raw);
    }
}

template <class T> void pack_numeric(ByteSink& sink, const SharedArray& a) {
    const auto sp = a.span<T>();
    const std::size_t bytes = sp.size() * sizeof(T);
    if constexpr (std::is_same_v<T, bool>) {
        sink.flush();
        const std::size_t at = sink.out->size();
        sink.out->resize(at + bytes);
        for (std::size_t i = 0; i < sp.size(); ++i) (*sink.out)[at + i] = std::byte(sp[i] ? 1 : 0);
    } else if constexpr (sizeof(T) == 1 || kLittleEndian) {
        sink.write(reinterpret_cast<const char*>(sp.data()), bytes);
    } else {
        sink.flush();
        const std::size_t at = sink.out->size();
        sink.out->resize(at + bytes);
        for (std::size_t i = 0; i < sp.size(); ++i) {
            std::byte tmp[sizeof(T)];
            std::memcpy(tmp, &sp[i], sizeof(T));
            for (std::size_t k = 0; k < sizeof(T); ++k)
                (*sink.out)[at + i * sizeof(T) + k] = tmp[sizeof(T) - 1 - k];
        }
    }
}

// What a partial value puts on the wire: the bits of `changed` and the fields they select (a
// structure bit selects its subtree, whose bits carry no value of their own), as offsets from
// the store's start. False, with `bad_bit` set, for a bit past the value's last field.
struct Selection {
    boost::container::small_vector<std::uint32_t, 32> bits, selected;  // inline: no allocation
};

PVWIRE_DECL bool select_fields(const ValueStore& s, std::uint32_t base, const BitSet& changed, Selection& out,
                               std::size_t& bad_bit) {
    const std::uint32_t count = s.type_at(base).offset_count();
    std::size_t subtree_end = 0;
    for (std::size_t b = changed.next(0); b != BitSet::npos; b = changed.next(b + 1)) {
        if (b >= count) {
            bad_bit = b;
            return false;
        }
        out.bits.push_back(std::uint32_t(b));
        if (b < subtree_end) continue;
        out.selected.push_back(base + std::uint32_t(b));
        subtree_end = b + s.type_at(out.selected.back()).offset_count();
    }
    return true;
}

struct Encoder {
    ByteSink& sink;
    Packer& pk;

    [[noreturn]] static void bad(const std::shared_ptr<ValueStore>& sp, std::uint32_t off,
                                 const std::string& what) {
        throw ValueError("pvwire msgpack: " + pvwire::detail::describe_field(Value(sp, off)) + " " + what);
    }

    void whole(const Value& v) { field(v.store_ptr(), v.offset(), v.type()); }

    void field(const std::shared_ptr<ValueStore>& sp, std::uint32_t off, const TypeDesc& t) {
        const Slot& slot = sp->slots[off];
        switch (t.code()) {
        case TypeCode::Struct:
            pk.pack_array(std::uint32_t(t.member_count()));
            for (std::size_t i = 0; i < t.member_count(); ++i)
                field(sp, off + t.member_offset(i), *t.member_type(i));
            return;
        case TypeCode::String: pack_str(pk, slot.get<std::string>()); return;
        case TypeCode::BoundedString: {
            const auto& s = slot.get<std::string>();
            if (s.size() > t.bound())
                bad(sp, off, "holds " + std::to_string(s.size()) + " bytes, over its bound");
            pack_str(pk, s);
            return;
        }
        case TypeCode::Union: {
            const auto& u = slot.get<UnionSlot>();
            if (u.selector < 0 || !u.member) {
                pk.pack_array(0);
                return;
            }
            pk.pack_array(2);
            pk.pack_uint32(std::uint32_t(u.selector));
            whole(u.member);
            return;
        }
        case TypeCode::Any: {
            const auto& u = slot.get<UnionSlot>();
            if (!u.member) {
                pk.pack_array(0);
                return;
            }
            pk.pack_array(2);
            pack_type(pk, u.member.type());
            whole(u.member);
            return;
        }
        default:
            if (type_code::is_array(t.code())) return array(sp, off, t, slot.get<SharedArray>());
            number(t.code(), slot.get<Number>());
            return;
        }
    }

    // The protocol's form (detail::aligned_array_ext): an ext32 header (always 6 bytes, so
    // the padding is known before the length is written), the pad count, the padding, then
    // the elements, which start a multiple of 8 bytes after the message body's start.
    void aligned(TypeCode elem, const SharedArray& a, std::size_t bytes) {
        const std::size_t after_header = sink.message_size() - sink.base + 6;
        const std::size_t pad = (8 - (after_header + 1) % 8) % 8;
        const std::uint32_t len = std::uint32_t(1 + pad + bytes);
        const char head[7] = {char(0xc9), char(len >> 24), char(len >> 16), char(len >> 8), char(len),
                              char(detail::aligned_array_ext), char(pad)};
        sink.write(head, sizeof head);
        static constexpr char zeros[8] = {};
        sink.write(zeros, pad);
        if (kLittleEndian && bytes >= detail::in_place_array_bytes) {
            sink.flush();
            sink.message->add_external(a.data(), bytes, a.owner());
            return;
        }
        type_code::visit_scalar_type(elem, [&](auto tag) {
            using T = typename decltype(tag)::type;
            if constexpr (std::is_arithmetic_v<T>) pack_numeric<T>(sink, a);
        });
    }

    void number(TypeCode c, const Number& n) {
        type_code::visit_scalar_type(c, [&](auto tag) {
            using T = typename decltype(tag)::type;
            if constexpr (std::is_same_v<T, bool>) n.u ? pk.pack_true() : pk.pack_false();
            else if constexpr (std::is_same_v<T, float>) pack_float32(sink, n.get<float>());
            else if constexpr (std::is_same_v<T, double>) pack_float64(sink, n.get<double>());
            else if constexpr (std::is_signed_v<T>) pk.pack_int64(n.get<T>());
            else if constexpr (std::is_unsigned_v<T>) pk.pack_uint64(n.get<T>());
        });
    }

    void array(const std::shared_ptr<ValueStore>& sp, std::uint32_t off, const TypeDesc& t,
               const SharedArray& a) {
        const TypeCode elem = type_code::element_of(t.code());
        const ArrayKind ak = type_code::array_kind(type_code::raw(t.code()));
        const std::size_t n = a.size();
        if (ak == ArrayKind::Fixed && n != 0 && n != t.bound())
            bad(sp, off, "holds " + std::to_string(n) + " elements, not its fixed length");
        if (ak == ArrayKind::Bounded && n > t.bound())
            bad(sp, off, "holds " + std::to_string(n) + " elements, over its bound");
        if (type_code::is_numeric(elem)) {
            const std::size_t bytes = n * type_code::element_size(elem);
            if (bytes > kMaxMsgpackLength - 8) bad(sp, off, "is larger than a msgpack bin allows");
            if (sink.message && type_code::element_size(elem) > 1) return aligned(elem, a, bytes);
            pk.pack_bin(std::uint32_t(bytes));
            if (n == 0) return;
            type_code::visit_scalar_type(elem, [&](auto tag) {
                using T = typename decltype(tag)::type;
                if constexpr (std::is_arithmetic_v<T>) pack_numeric<T>(sink, a);
            });
            return;
        }
        if (n > kMaxMsgpackLength) bad(sp, off, "has more elements than a msgpack array allows");
        pk.pack_array(std::uint32_t(n));
        if (n == 0) return;
        if (elem == TypeCode::String) {
            for (const auto& s : a.span<std::string>()) pack_str(pk, s);
            return;
        }
        const auto values = a.span<Value>();
        for (std::size_t i = 0; i < values.size(); ++i) {
            const Value& e = values[i];
            if (!e) {
                pk.pack_nil();
                continue;
            }
            const bool ok = elem == TypeCode::Any ? e.code() == TypeCode::Any : e.type() == *t.element();
            if (!ok)
                bad(sp, off, "element " + std::to_string(i) + " has type " + e.type().type_name() +
                                 ", not the array's element type");
            whole(e);
        }
    }
};

// ---- decoding: step 1, structural check -------------------------------------------------

struct GuardVisitor : msgpack::null_visitor {
    enum class Error { none, truncated, invalid, too_deep, too_many };
    std::size_t budget;  // elements the containers may still claim
    std::size_t depth = 0;
    Error error = Error::none;
    std::size_t at = 0;
    std::size_t claimed = 0;

    explicit GuardVisitor(std::size_t len) : budget(len) {}

    bool open(std::size_t elements) {
        if (++depth > kMaxMsgpackDepth) {
            error = Error::too_deep;
            return false;
        }
        if (elements > budget) {
            error = Error::too_many;
            claimed = elements;
            return false;
        }
        budget -= elements;
        return true;
    }
    bool start_array(std::uint32_t n) { return open(n); }
    bool end_array() {
        --depth;
        return true;
    }
    bool start_map(std::uint32_t n) { return open(std::size_t(n) * 2); }
    bool end_map() {
        --depth;
        return true;
    }
    void parse_error(std::size_t, std::size_t error_offset) {
        error = Error::invalid;
        at = error_offset;
    }
    void insufficient_bytes(std::size_t, std::size_t error_offset) {
        error = Error::truncated;
        at = error_offset;
    }
};

PVWIRE_DECL bool reference_everything(msgpack::type::object_type, std::size_t, void*) { return true; }

[[noreturn]] PVWIRE_DECL void fail_input(const char* what, const std::string& detail) {
    throw DecodeError(std::string("pvwire msgpack: ") + what + ": " + detail);
}

// Step 1: `in` holds exactly one msgpack object within the bounds above (DecodeError if not).
PVWIRE_DECL void check_document(std::span<const std::byte> in, const char* what) {
    const char* data = reinterpret_cast<const char*>(in.data());
    const std::size_t len = in.size();
    if (len == 0) fail_input(what, "empty input");
    GuardVisitor guard(len);
    std::size_t off = 0;
    bool ok = false;
    try {
        ok = msgpack::parse(data, len, off, guard);
    } catch (const std::exception& e) {
        fail_input(what, std::string("invalid msgpack (") + e.what() + ")");
    }
    if (!ok) {
        switch (guard.error) {
        case GuardVisitor::Error::truncated:
            fail_input(what, "truncated: the input ends inside a msgpack object (" +
                                 std::to_string(len) + " bytes)");
        case GuardVisitor::Error::too_deep:
            fail_input(what, "msgpack containers nested deeper than " +
                                 std::to_string(kMaxMsgpackDepth) + " levels");
        case GuardVisitor::Error::too_many:
            fail_input(what, "a container claims " + std::to_string(guard.claimed) +
                                 " elements, more than the " + std::to_string(len) +
                                 " input bytes can hold");
        case GuardVisitor::Error::invalid:
            fail_input(what, "invalid msgpack byte " +
                                 hex_code(guard.at < len ? std::uint8_t(in[guard.at]) : 0) +
                                 " at offset " + std::to_string(guard.at));
        case GuardVisitor::Error::none:
            break;
        }
        fail_input(what, "invalid msgpack");
    }
    if (off != len)
        fail_input(what, std::to_string(len - off) + " trailing bytes after the msgpack object");
}

PVWIRE_DECL msgpack::unpack_limit limits_for(std::size_t len) {
    return msgpack::unpack_limit(len, len / 2 + 1, len, len, len, kMaxMsgpackDepth + 2);
}

// One complete msgpack object parsed from the input (which must outlive it).
PVWIRE_DECL msgpack::object_handle parse_document(std::span<const std::byte> in, const char* what) {
    check_document(in, what);
    try {
        std::size_t off = 0;
        bool referenced = false;
        return msgpack::unpack(reinterpret_cast<const char*>(in.data()), in.size(), off, referenced,
                               &reference_everything, nullptr, limits_for(in.size()));
    } catch (const std::exception& e) {
        fail_input(what, std::string("invalid msgpack (") + e.what() + ")");
    }
}

// ---- decoding: step 2, the pvData walk ----------------------------------------------------

PVWIRE_DECL const char* kind_name(const msgpack::object& o) noexcept {
    switch (o.type) {
    case msgpack::type::NIL: return "nil";
    case msgpack::type::BOOLEAN: return "boolean";
    case msgpack::type::POSITIVE_INTEGER: return "positive integer";
    case msgpack::type::NEGATIVE_INTEGER: return "negative integer";
    case msgpack::type::FLOAT32: return "float32";
    case msgpack::type::FLOAT64: return "float64";
    case msgpack::type::STR: return "str";
    case msgpack::type::BIN: return "bin";
    case msgpack::type::EXT: return "ext";
    case msgpack::type::ARRAY: return "array";
    case msgpack::type::MAP: return "map";
    }
    return "unknown msgpack object";
}

struct PathItem {
    std::string_view text;  // member name, or a "(...)" marker appended as is
    std::size_t index;
    bool is_index;
    const Value* field_of = nullptr;  // set: `index` is a field offset of this value, named on failure
};

struct Decoder {
    // Most paths are a few levels deep: kept inline, a decode allocates nothing for them.
    boost::container::small_vector<PathItem, 8> path;
    // Keeps the parsed bytes alive: aligned numeric arrays are then viewed in place.
    const std::shared_ptr<const void>* owner = nullptr;

    struct Scope {  // pushes one path element for its lifetime
        Decoder& d;
        Scope(Decoder& dec, std::string_view name) : d(dec) { d.path.push_back({name, 0, false}); }
        Scope(Decoder& dec, std::size_t index) : d(dec) { d.path.push_back({{}, index, true}); }
        Scope(Decoder& dec, const Value& v, std::uint32_t field) : d(dec) { d.path.push_back({{}, field, false, &v}); }
        ~Scope() { d.path.pop_back(); }
        Scope(const Scope&) = delete;
        Scope& operator=(const Scope&) = delete;
    };

    std::string where() const {
        std::string s;
        for (const auto& p : path) {
            if (p.field_of) {
                s += '(' + pvwire::detail::describe_field(Value(p.field_of->store_ptr(),
                                                                p.field_of->offset() + std::uint32_t(p.index))) + ')';
            } else if (p.is_index) {
                s += '[' + std::to_string(p.index) + ']';
            } else if (!p.text.empty() && p.text.front() == '(') {
                s += p.text;
            } else {
                if (!s.empty()) s += '.';
                s += p.text;
            }
        }
        return s;
    }
    [[noreturn]] void fail(const std::string& what) const {
        throw DecodeError("pvwire msgpack: " + where() + ": " + what);
    }
    [[noreturn]] void expected(const char* what, const msgpack::object& o) const {
        fail(std::string("expected ") + what + ", got " + kind_name(o));
    }
    [[noreturn]] void expected(const char* what, const TypeDesc& t, const msgpack::object& o) const {
        fail(std::string("expected ") + what + " for " + t.type_name() + ", got " + kind_name(o));
    }
    [[noreturn]] void too_deep() const {
        fail("types nested deeper than " + std::to_string(max_depth) + " levels");
    }

    // -- types --------------------------------------------------------------------------

    std::uint8_t code_of(const msgpack::object& o) const {
        if (o.type != msgpack::type::POSITIVE_INTEGER) expected("a type code (positive integer)", o);
        if (o.via.u64 > 0xFF || !type_code::is_valid(std::uint8_t(o.via.u64)))
            fail("unknown type code " + hex_code(o.via.u64));
        return std::uint8_t(o.via.u64);
    }

    // `level`: 1 for a document's type, +1 per enclosing structure/union/array/any.
    TypePtr type(const msgpack::object& o, std::uint32_t level) {
        if (o.type == msgpack::type::POSITIVE_INTEGER) {
            const TypeCode c = TypeCode(code_of(o));
            if (!is_simple_code(c))
                fail("type code " + hex_code(type_code::raw(c)) + " (" + std::string(type_code::name(c)) +
                     ") needs the map form");
            if (is_compound_code(c) && level > max_depth) too_deep();
            return simple_type(c);
        }
        if (o.type != msgpack::type::MAP) expected("a type (integer code or map)", o);

        const msgpack::object *c_obj = nullptr, *id_obj = nullptr, *m_obj = nullptr,
                              *e_obj = nullptr, *b_obj = nullptr;
        for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
            const auto& kv = o.via.map.ptr[i];
            if (kv.key.type != msgpack::type::STR) expected("a str key in a type map", kv.key);
            const std::string_view key(kv.key.via.str.ptr, kv.key.via.str.size);
            const msgpack::object** slot = key == "c"    ? &c_obj
                                         : key == "id" ? &id_obj
                                         : key == "m"  ? &m_obj
                                         : key == "e"  ? &e_obj
                                         : key == "b"  ? &b_obj
                                                       : nullptr;
            if (!slot) fail("unknown key \"" + std::string(key.substr(0, 32)) + "\" in a type map");
            if (*slot) fail("duplicate key \"" + std::string(key) + "\" in a type map");
            *slot = &kv.val;
        }
        if (!c_obj) fail("type map without its code \"c\"");
        const TypeCode c = TypeCode(code_of(*c_obj));
        const std::string cname = hex_code(type_code::raw(c)) + " (" + std::string(type_code::name(c)) + ")";
        if (is_compound_code(c) && level > max_depth) too_deep();
        const ArrayKind ak = type_code::array_kind(type_code::raw(c));
        auto refuse = [&](const msgpack::object* p, const char* key) {
            if (p) fail(std::string("key \"") + key + "\" is not allowed for type code " + cname);
        };

        if (c == TypeCode::Struct || c == TypeCode::Union) {
            refuse(e_obj, "e");
            refuse(b_obj, "b");
            std::string id;
            if (id_obj) {
                if (id_obj->type != msgpack::type::STR) expected("a str type id \"id\"", *id_obj);
                id.assign(id_obj->via.str.ptr, id_obj->via.str.size);
            }
            if (!m_obj) fail("type " + cname + " without its member list \"m\"");
            if (m_obj->type != msgpack::type::ARRAY) expected("a member list \"m\" (array)", *m_obj);
            const auto& ms = m_obj->via.array;
            if (ms.size > max_members)
                fail(std::to_string(ms.size) + " members, more than " + std::to_string(max_members));
            std::vector<Member> members;
            members.reserve(ms.size);
            for (std::uint32_t i = 0; i < ms.size; ++i) {
                const auto& m = ms.ptr[i];
                Scope at_index(*this, std::size_t(i));
                if (m.type != msgpack::type::ARRAY || m.via.array.size != 2 ||
                    m.via.array.ptr[0].type != msgpack::type::STR)
                    fail(std::string("a member must be [name, type], got ") + kind_name(m) +
                         (m.type == msgpack::type::ARRAY ? " of " + std::to_string(m.via.array.size) : ""));
                const auto& n = m.via.array.ptr[0].via.str;
                std::string name(n.ptr, n.size);
                path.back() = PathItem{{n.ptr, n.size}, 0, false};
                TypePtr mt = type(m.via.array.ptr[1], level + 1);
                members.push_back(Member{std::move(name), std::move(mt)});
            }
            return c == TypeCode::Struct ? TypeDesc::structure(std::move(id), std::move(members))
                                         : TypeDesc::union_of(std::move(id), std::move(members));
        }
        refuse(id_obj, "id");
        refuse(m_obj, "m");
        if (c == TypeCode::StructA || c == TypeCode::UnionA) {
            refuse(b_obj, "b");
            if (!e_obj) fail("type " + cname + " without its element type \"e\"");
            Scope at_elem(*this, "(element)");
            TypePtr e = type(*e_obj, level + 1);
            const TypeCode want = type_code::element_of(c);
            if (e->code() != want)
                fail(std::string("the element of ") + std::string(type_code::name(c)) + " must be a " +
                     std::string(type_code::name(want)) + ", got " + e->type_name());
            return c == TypeCode::StructA ? TypeDesc::struct_array(std::move(e))
                                          : TypeDesc::union_array(std::move(e));
        }
        refuse(e_obj, "e");
        if (c == TypeCode::BoundedString || ak == ArrayKind::Bounded || ak == ArrayKind::Fixed) {
            if (!b_obj) fail("type " + cname + " without its bound \"b\"");
            if (b_obj->type != msgpack::type::POSITIVE_INTEGER || b_obj->via.u64 > 0xFFFFFFFFu)
                fail(std::string("bound \"b\" must be an integer 0..4294967295, got ") + kind_name(*b_obj));
            const auto b = std::uint32_t(b_obj->via.u64);
            if (c == TypeCode::BoundedString) return TypeDesc::bounded_string(b);
            const TypeCode elem = type_code::element_of(c);
            return ak == ArrayKind::Bounded ? TypeDesc::bounded_array(elem, b) : TypeDesc::fixed_array(elem, b);
        }
        refuse(b_obj, "b");
        return simple_type(c);  // a simple code in map form: accepted
    }

    // -- values -------------------------------------------------------------------------
    // Decodes the value of the field at `off` (type t) into slots[off - origin].

    void whole(Value& v, const msgpack::object& o, std::uint32_t level) {
        ValueStore& s = *v.store();
        field(s.slots.data(), 0, v.offset(), s.type_at(v.offset()), o, level);
    }

    void field(Slot* slots, std::uint32_t origin, std::uint32_t off, const TypeDesc& t,
               const msgpack::object& o, std::uint32_t level) {
        Slot& slot = slots[off - origin];
        const TypeCode c = t.code();
        switch (c) {
        case TypeCode::Struct: {
            if (o.type != msgpack::type::ARRAY) expected("an array of member values", t, o);
            if (o.via.array.size != t.member_count())
                fail("structure has " + std::to_string(t.member_count()) + " members but " +
                     std::to_string(o.via.array.size) + " values were given");
            for (std::size_t i = 0; i < t.member_count(); ++i) {
                Scope at(*this, std::string_view(t.member_name(i)));
                field(slots, origin, off + t.member_offset(i), *t.member_type(i), o.via.array.ptr[i],
                      level + 1);
            }
            return;
        }
        case TypeCode::Bool: {
            if (o.type != msgpack::type::BOOLEAN) expected("a boolean", t, o);
            Number n;
            n.u = o.via.boolean ? 1 : 0;
            slot = n;
            return;
        }
        case TypeCode::Int8:
        case TypeCode::Int16:
        case TypeCode::Int32:
        case TypeCode::Int64: {
            Number n;
            if (o.type == msgpack::type::POSITIVE_INTEGER) {
                if (!type_code::in_range(c, o.via.u64))
                    fail("integer " + std::to_string(o.via.u64) + " is out of range for " + t.type_name());
                n.i = std::int64_t(o.via.u64);
            } else if (o.type == msgpack::type::NEGATIVE_INTEGER) {
                if (!type_code::in_range(c, o.via.i64))
                    fail("integer " + std::to_string(o.via.i64) + " is out of range for " + t.type_name());
                n.i = o.via.i64;
            } else {
                expected("an integer", t, o);
            }
            slot = n;
            return;
        }
        case TypeCode::UInt8:
        case TypeCode::UInt16:
        case TypeCode::UInt32:
        case TypeCode::UInt64: {
            Number n;
            if (o.type == msgpack::type::POSITIVE_INTEGER) {
                if (!type_code::in_range(c, o.via.u64))
                    fail("integer " + std::to_string(o.via.u64) + " is out of range for " + t.type_name());
                n.u = o.via.u64;
            } else if (o.type == msgpack::type::NEGATIVE_INTEGER) {
                fail("negative integer " + std::to_string(o.via.i64) + " for " + t.type_name());
            } else {
                expected("a non-negative integer", t, o);
            }
            slot = n;
            return;
        }
        case TypeCode::Float32:
        case TypeCode::Float64: {
            double d = 0;
            switch (o.type) {
            case msgpack::type::FLOAT32:
            case msgpack::type::FLOAT64: d = o.via.f64; break;
            case msgpack::type::POSITIVE_INTEGER: d = double(o.via.u64); break;
            case msgpack::type::NEGATIVE_INTEGER: d = double(o.via.i64); break;
            default: expected("a float", t, o);
            }
            Number n;
            n.d = c == TypeCode::Float32 ? double(float(d)) : d;
            slot = n;
            return;
        }
        case TypeCode::String:
        case TypeCode::BoundedString: {
            if (o.type != msgpack::type::STR) expected("a str", t, o);
            if (c == TypeCode::BoundedString && o.via.str.size > t.bound())
                fail("string of " + std::to_string(o.via.str.size) + " bytes exceeds the bound of " +
                     t.type_name());
            slot = Slot(std::string(o.via.str.ptr, o.via.str.size));
            return;
        }
        case TypeCode::Union: {
            if (o.type != msgpack::type::ARRAY || (o.via.array.size != 0 && o.via.array.size != 2))
                expected("[] or [selector, value]", t, o);
            UnionSlot u;
            if (o.via.array.size == 2) {
                const auto& sel = o.via.array.ptr[0];
                if (sel.type != msgpack::type::POSITIVE_INTEGER) {
                    Scope at(*this, "(selector)");
                    expected("a member index", sel);
                }
                if (sel.via.u64 >= t.member_count())
                    fail("union selector " + std::to_string(sel.via.u64) + " but the union has " +
                         std::to_string(t.member_count()) + " members");
                const auto idx = std::size_t(sel.via.u64);
                Scope at(*this, std::string_view(t.member_name(idx)));
                u.selector = int(idx);
                u.member = Value(t.member_type(idx));
                whole(u.member, o.via.array.ptr[1], level + 1);
            }
            slot = Slot(std::move(u));
            return;
        }
        case TypeCode::Any: {
            if (o.type != msgpack::type::ARRAY || (o.via.array.size != 0 && o.via.array.size != 2))
                expected("[] or [type, value]", t, o);
            UnionSlot u;
            if (o.via.array.size == 2) {
                TypePtr ct;
                {
                    Scope at(*this, "(type)");
                    ct = type(o.via.array.ptr[0], level + 1);
                }
                Scope at(*this, "(value)");
                u.member = Value(std::move(ct));
                whole(u.member, o.via.array.ptr[1], level + 1);
            }
            slot = Slot(std::move(u));
            return;
        }
        default:
            slot = Slot(array(t, o, level));
            return;
        }
    }

    template <class T> SharedArray numeric(const char* src, std::size_t n) {
        constexpr TypeCode code = pvwire::detail::code_of<T>();
        if (n == 0) return SharedArray::view(code, nullptr, 0, nullptr);
        if constexpr (!std::is_same_v<T, bool> && (sizeof(T) == 1 || kLittleEndian)) {
            if (owner && *owner && reinterpret_cast<std::uintptr_t>(src) % alignof(T) == 0)
                return SharedArray::view(code, src, n, *owner);
        }
        std::shared_ptr<T[]> buf(new T[n]);
        if constexpr (std::is_same_v<T, bool>) {
            for (std::size_t i = 0; i < n; ++i) {
                const auto b = std::uint8_t(src[i]);
                if (b > 1) {
                    Scope at(*this, i);
                    fail("boolean array byte " + std::to_string(b) + " is not 0 or 1");
                }
                buf[i] = b != 0;
            }
        } else if constexpr (sizeof(T) == 1 || kLittleEndian) {
            std::memcpy(buf.get(), src, n * sizeof(T));
        } else {
            for (std::size_t i = 0; i < n; ++i) {
                char tmp[sizeof(T)];
                for (std::size_t k = 0; k < sizeof(T); ++k) tmp[k] = src[i * sizeof(T) + sizeof(T) - 1 - k];
                std::memcpy(&buf[i], tmp, sizeof(T));
            }
        }
        const T* data = buf.get();  // not in the call: argument evaluation order is unspecified
        return SharedArray::view(code, data, n, std::move(buf));
    }

    // The packed elements of a numeric array: a bin, or the protocol's aligned ext (a pad
    // count, that many bytes of padding, the elements).
    std::pair<const char*, std::size_t> packed_elements(const TypeDesc& t, const msgpack::object& o) const {
        if (o.type == msgpack::type::BIN) return {o.via.bin.ptr, o.via.bin.size};
        if (o.type != msgpack::type::EXT || o.via.ext.type() != detail::aligned_array_ext)
            expected("a bin of packed elements (or the aligned array ext)", t, o);
        const std::size_t size = o.via.ext.size;
        const std::size_t pad = size == 0 ? 8 : std::uint8_t(o.via.ext.data()[0]);
        if (pad > 7 || 1 + pad > size)
            fail("aligned array ext of " + std::to_string(size) + " bytes with a bad pad count");
        return {o.via.ext.data() + 1 + pad, size - 1 - pad};
    }

    void check_count(const TypeDesc& t, std::size_t n) const {
        const ArrayKind ak = type_code::array_kind(type_code::raw(t.code()));
        if (ak == ArrayKind::Bounded && n > t.bound())
            fail(std::to_string(n) + " elements exceed the bound of " + t.type_name());
        if (ak == ArrayKind::Fixed && n != 0 && n != t.bound())
            fail(std::to_string(n) + " elements for " + t.type_name() + " (must be " +
                 std::to_string(t.bound()) + ", or 0 when unset)");
    }

    SharedArray array(const TypeDesc& t, const msgpack::object& o, std::uint32_t level) {
        const TypeCode elem = type_code::element_of(t.code());
        if (type_code::is_numeric(elem)) {
            // not a structured binding: clang 14 cannot capture one in the lambda below
            const std::pair<const char*, std::size_t> packed = packed_elements(t, o);
            const char* src = packed.first;
            const std::size_t size = packed.second;
            const std::size_t esize = type_code::element_size(elem);
            if (size % esize != 0)
                fail(std::to_string(size) + " bytes of packed elements are not a whole number of " +
                     std::to_string(esize) + "-byte elements");
            const std::size_t n = size / esize;
            check_count(t, n);
            return type_code::visit_scalar_type(elem, [&](auto tag) {
                using T = typename decltype(tag)::type;
                if constexpr (std::is_arithmetic_v<T>) return numeric<T>(src, n);
                else return SharedArray();
            });
        }
        if (o.type != msgpack::type::ARRAY) expected("an array", t, o);
        const std::size_t n = o.via.array.size;
        check_count(t, n);
        if (elem == TypeCode::String) {
            if (n == 0) return SharedArray::view(TypeCode::String, nullptr, 0, nullptr);
            std::vector<std::string> v;
            v.reserve(n);
            for (std::size_t i = 0; i < n; ++i) {
                const auto& e = o.via.array.ptr[i];
                if (e.type != msgpack::type::STR) {
                    Scope at(*this, i);
                    expected("a str", e);
                }
                v.emplace_back(e.via.str.ptr, e.via.str.size);
            }
            return SharedArray::from(std::move(v));
        }
        // structure, union and any arrays: nil for a null element
        if (n == 0) return SharedArray::view(elem, nullptr, 0, nullptr);
        const TypePtr& et = elem == TypeCode::Any ? simple_type(TypeCode::Any) : t.element();
        std::vector<Value> v;
        v.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            const auto& e = o.via.array.ptr[i];
            if (e.type == msgpack::type::NIL) {
                v.emplace_back();
                continue;
            }
            Scope at(*this, i);
            Value ev(et);
            whole(ev, e, level + 1);
            v.push_back(std::move(ev));
        }
        return SharedArray::from(std::move(v), elem);
    }
};

// The offsets list of a partial document: strictly increasing field offsets below `count`.
PVWIRE_DECL void read_offsets(Decoder& d, const msgpack::object& ob, std::uint32_t count, BitSet& bits) {
    Decoder::Scope at(d, "(offsets)");
    if (ob.type != msgpack::type::ARRAY) d.expected("an array of field offsets", ob);
    std::uint64_t prev = 0;
    for (std::uint32_t i = 0; i < ob.via.array.size; ++i) {
        const auto& e = ob.via.array.ptr[i];
        if (e.type != msgpack::type::POSITIVE_INTEGER) {
            Decoder::Scope ai(d, std::size_t(i));
            d.expected("a field offset", e);
        }
        if (i > 0 && e.via.u64 <= prev)
            d.fail("field offsets must be strictly increasing (" + std::to_string(e.via.u64) + " after " +
                   std::to_string(prev) + ")");
        if (e.via.u64 >= count)
            d.fail("field offset " + std::to_string(e.via.u64) + " but the value has " + std::to_string(count) +
                   " fields");
        prev = e.via.u64;
        bits.set(std::size_t(e.via.u64));
    }
}

template <class F> auto guarded(F&& f) {
    try {
        return f();
    } catch (const std::invalid_argument& e) {  // a TypeDesc builder refused: bad input
        throw DecodeError(std::string("pvwire msgpack: invalid type: ") + e.what());
    }
}

}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(codec_impl)

// ---- the pieces the protocol shares (detail/object_codec.hpp) ------------------------------

namespace detail {

PVWIRE_DECL void write_str(Packer& pk, std::string_view s) { msgpack_codec::pack_str(pk, s); }
PVWIRE_DECL void write_type(Packer& pk, const TypeDesc& t) { msgpack_codec::pack_type(pk, t); }

PVWIRE_DECL void write_value_document(ByteSink& sink, Packer& pk, const Value& v) {
    if (!v) {
        pk.pack_array(0);
        return;
    }
    pk.pack_array(2);
    msgpack_codec::pack_type(pk, v.type());
    Encoder e{sink, pk};
    e.whole(v);
}

PVWIRE_DECL void write_partial(ByteSink& sink, Packer& pk, const Value& v, const BitSet& changed) {
    if (!v) throw ValueError("pvwire msgpack: encode_partial of a null Value");
    const auto& sp = v.store_ptr();
    Selection sel;
    std::size_t bad_bit = 0;
    if (!select_fields(*sp, v.offset(), changed, sel, bad_bit))
        throw ValueError("pvwire msgpack: changed bit " + std::to_string(bad_bit) + " is past the " +
                         std::to_string(sp->type_at(v.offset()).offset_count()) + " fields of " +
                         pvwire::detail::describe_field(v));
    pk.pack_array(std::uint32_t(1 + sel.selected.size()));
    pk.pack_array(std::uint32_t(sel.bits.size()));
    for (auto b : sel.bits) pk.pack_uint32(b);
    Encoder e{sink, pk};
    for (auto off : sel.selected) e.field(sp, off, sp->type_at(off));
}

PVWIRE_DECL void write_bare(ByteSink& sink, Packer& pk, const Value& v) {
    Encoder e{sink, pk};
    e.whole(v);
}

PVWIRE_DECL void read_bare(const msgpack::object& o, const char* what, Value& into,
                           const std::shared_ptr<const void>& owner) {
    guarded([&] {
        Decoder d;
        d.owner = &owner;
        Decoder::Scope at(d, what);
        d.whole(into, o, 1);
        return 0;
    });
}

PVWIRE_DECL msgpack::object_handle parse(std::span<const std::byte> in, const char* what) {
    return msgpack_codec::parse_document(in, what);
}

// Small inputs skip step 1: what unpack can allocate for them is bounded anyway (containers
// nested at most kMaxMsgpackDepth deep, each claiming at most one element per input byte:
// under 2.2 MB for 1 KiB), and a monitor update is a few dozen bytes, whose check would cost
// as much as its decoding. When unpack fails, step 1 runs to say precisely why.
constexpr std::size_t unchecked_below = 1024;

PVWIRE_DECL msgpack::object parse_into(msgpack::zone& zone, std::span<const std::byte> in, const char* what) {
    if (in.size() >= unchecked_below) msgpack_codec::check_document(in, what);
    zone.clear();
    std::size_t off = 0;
    try {
        bool referenced = false;
        auto o = msgpack::unpack(zone, reinterpret_cast<const char*>(in.data()), in.size(), off, referenced,
                                 &msgpack_codec::reference_everything, nullptr, msgpack_codec::limits_for(in.size()));
        if (off == in.size()) return o;
    } catch (const std::exception& e) {
        msgpack_codec::check_document(in, what);
        msgpack_codec::fail_input(what, std::string("invalid msgpack (") + e.what() + ")");
    }
    msgpack_codec::check_document(in, what);  // trailing bytes: says so
    msgpack_codec::fail_input(what, "invalid msgpack");
}

PVWIRE_DECL const char* object_kind_name(const msgpack::object& o) noexcept { return msgpack_codec::kind_name(o); }

PVWIRE_DECL TypePtr read_type(const msgpack::object& o, const char* what) {
    return guarded([&] {
        Decoder d;
        Decoder::Scope at(d, what);
        return d.type(o, 1);
    });
}

PVWIRE_DECL Value read_value_document(const msgpack::object& o, const char* what,
                                      const std::shared_ptr<const void>& owner) {
    return guarded([&] {
        Decoder d;
        d.owner = &owner;
        Decoder::Scope at_doc(d, what);
        if (o.type != msgpack::type::ARRAY || (o.via.array.size != 0 && o.via.array.size != 2))
            d.expected("[type, value] or []", o);
        if (o.via.array.size == 0) return Value();
        TypePtr t;
        {
            Decoder::Scope at(d, "type");
            t = d.type(o.via.array.ptr[0], 1);
        }
        Decoder::Scope at(d, "value");
        Value v(std::move(t));
        d.whole(v, o.via.array.ptr[1], 1);
        return v;
    });
}

PVWIRE_DECL void read_partial(const msgpack::object& o, const char* what, Value& into, BitSet& changed,
                              const std::shared_ptr<const void>& owner) {
    if (!into) throw DecodeError(std::string("pvwire msgpack: ") + what + ": no Value to merge into");
    ValueStore& s = *into.store();
    const std::uint32_t base = into.offset();
    const std::uint32_t count = s.type_at(base).offset_count();

    struct Selected {
        std::uint32_t off;    // relative to `into`
        std::uint32_t start;  // first scratch slot
        std::uint32_t n;      // offsets covered
    };
    boost::container::small_vector<Selected, 16> selected;  // inline: no allocation for most updates
    boost::container::small_vector<Slot, 16> scratch;
    BitSet bits;
    guarded([&] {
        Decoder d;
        d.owner = &owner;
        Decoder::Scope at_doc(d, what);
        if (o.type != msgpack::type::ARRAY || o.via.array.size == 0)
            d.expected("[[offsets...], values...]", o);
        read_offsets(d, o.via.array.ptr[0], count, bits);
        std::uint32_t total = 0;
        for (std::size_t b = bits.next(0); b != BitSet::npos;) {
            const std::uint32_t n = s.type_at(base + std::uint32_t(b)).offset_count();
            selected.push_back({std::uint32_t(b), total, n});
            total += n;
            b = bits.next(b + n);
        }
        if (o.via.array.size - 1 != selected.size())
            d.fail(std::to_string(selected.size()) + " fields are selected but " +
                   std::to_string(o.via.array.size - 1) + " values were given");
        scratch.resize(total);
        for (std::size_t k = 0; k < selected.size(); ++k) {
            const auto& sel = selected[k];
            const std::uint32_t off = base + sel.off;
            // the field's name joins the path only when something fails (no string per field)
            Decoder::Scope at(d, into, sel.off);
            // slot index = off - origin = sel.start + (field offset - off)
            d.field(scratch.data() + sel.start, off, off, s.type_at(off), o.via.array.ptr[k + 1], 1);
        }
        return 0;
    });
    // commit: nothing below can fail
    for (const auto& sel : selected) {
        for (std::uint32_t k = 0; k < sel.n; ++k)
            s.slots[base + sel.off + k] = std::move(scratch[sel.start + k]);
        s.marks.set(base + sel.off);
    }
    changed = std::move(bits);
}

PVWIRE_IMPL_NAMESPACE(plain_impl) {

// One field of a plain type into its slot; false for any other type or form.
PVWIRE_DECL bool read_plain_field(PlainReader& r, ValueStore& s, std::uint32_t off, const TypeDesc& t) {
    const TypeCode c = t.code();
    Slot& slot = s.slots[off];
    Number n;
    switch (c) {
    case TypeCode::Struct: {
        std::uint32_t members = 0;
        if (!r.array(members) || members != t.member_count()) return false;
        for (std::size_t i = 0; i < t.member_count(); ++i)
            if (!read_plain_field(r, s, off + t.member_offset(i), *t.member_type(i))) return false;
        return true;
    }
    case TypeCode::Bool: {
        bool b = false;
        if (!r.boolean(b)) return false;
        n.u = b;
        break;
    }
    case TypeCode::Int8: case TypeCode::Int16: case TypeCode::Int32: case TypeCode::Int64:
        if (!r.integer(n.i) || !type_code::in_range(c, n.i)) return false;
        break;
    case TypeCode::UInt8: case TypeCode::UInt16: case TypeCode::UInt32: case TypeCode::UInt64:
        if (!r.uint(n.u) || !type_code::in_range(c, n.u)) return false;
        break;
    case TypeCode::Float32:
    case TypeCode::Float64:
        if (!r.number(n.d)) return false;
        if (c == TypeCode::Float32) n.d = double(float(n.d));
        break;
    case TypeCode::String: {
        std::string_view text;
        if (!r.str(text)) return false;
        if (slot.kind() == Slot::Kind::String) slot.set_string(text);  // keeps its capacity
        else slot = Slot(std::string(text));
        return true;
    }
    default: return false;
    }
    slot = n;
    return true;
}

PVWIRE_DECL bool write_plain_field(PlainWriter& w, const ValueStore& s, std::uint32_t off, const TypeDesc& t) {
    const Slot& slot = s.slots[off];
    switch (t.code()) {
    case TypeCode::Struct:
        if (!w.array(std::uint32_t(t.member_count()))) return false;
        for (std::size_t i = 0; i < t.member_count(); ++i)
            if (!write_plain_field(w, s, off + t.member_offset(i), *t.member_type(i))) return false;
        return true;
    case TypeCode::Bool: return w.boolean(slot.get<Number>().u != 0);
    case TypeCode::Int8: case TypeCode::Int16: case TypeCode::Int32: case TypeCode::Int64:
        return w.integer(slot.get<Number>().i);
    case TypeCode::UInt8: case TypeCode::UInt16: case TypeCode::UInt32: case TypeCode::UInt64:
        return w.uint(slot.get<Number>().u);
    case TypeCode::Float32: return w.float32(slot.get<Number>().get<float>());
    case TypeCode::Float64: return w.float64(slot.get<Number>().d);
    case TypeCode::String: return w.str(slot.get<std::string>());
    default: return false;
    }
}

}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(plain_impl)

PVWIRE_DECL bool write_plain_partial(PlainWriter& w, const Value& v, const BitSet& changed) {
    if (!v) return false;
    const ValueStore& s = *v.store();
    Selection sel;
    std::size_t bad_bit = 0;
    if (!select_fields(s, v.offset(), changed, sel, bad_bit)) return false;  // write_partial says why
    if (!w.array(std::uint32_t(1 + sel.selected.size())) || !w.array(std::uint32_t(sel.bits.size()))) return false;
    for (auto b : sel.bits)
        if (!w.uint(b)) return false;
    for (auto off : sel.selected)
        if (!write_plain_field(w, s, off, s.type_at(off))) return false;
    return true;
}

PVWIRE_DECL bool read_plain_partial(std::span<const std::byte> in, std::size_t& at, Value& into, BitSet& changed) {
    PlainReader r(in, at);
    ValueStore& s = *into.store();
    const std::uint32_t base = into.offset();
    const std::uint32_t count = s.type_at(base).offset_count();
    std::uint32_t elements = 0, nbits = 0;
    if (!r.array(elements) || elements == 0 || !r.array(nbits)) return false;
    boost::container::small_vector<std::uint32_t, 32> bits;
    for (std::uint32_t k = 0; k < nbits; ++k) {
        std::uint64_t b = 0;
        if (!r.uint(b) || b >= count || (!bits.empty() && b <= bits.back())) return false;
        bits.push_back(std::uint32_t(b));
    }
    std::uint32_t values = 0, subtree_end = 0;
    for (auto b : bits) {
        if (b < subtree_end) continue;  // inside a selected structure
        const std::uint32_t off = base + b;
        if (++values >= elements || !read_plain_field(r, s, off, s.type_at(off))) return false;
        s.marks.set(off);
        subtree_end = b + s.type_at(off).offset_count();
    }
    if (values + 1 != elements) return false;
    changed.clear();
    for (auto b : bits) changed.set(b);
    at = r.at();
    return true;
}

}  // namespace detail

// ---- API ----------------------------------------------------------------------------------

PVWIRE_DECL void encode_type(const TypeDesc& type, std::vector<std::byte>& out) {
    ByteSink sink(&out);
    Packer pk(sink);
    pack_type(pk, type);
    sink.flush();
}

PVWIRE_DECL std::vector<std::byte> encode_type(const TypeDesc& type) {
    std::vector<std::byte> out;
    encode_type(type, out);
    return out;
}

PVWIRE_DECL TypePtr decode_type(std::span<const std::byte> in) {
    const auto doc = parse_document(in, "type");
    return detail::read_type(doc.get(), "type");
}

PVWIRE_DECL void encode_value(const Value& v, std::vector<std::byte>& out) {
    // On failure leave `out` as it was.
    const std::size_t mark = out.size();
    ByteSink sink(&out);
    Packer pk(sink);
    try {
        detail::write_value_document(sink, pk, v);
        sink.flush();
    } catch (...) {
        sink.discard();
        out.resize(mark);
        throw;
    }
}

PVWIRE_DECL std::vector<std::byte> encode_value(const Value& v) {
    std::vector<std::byte> out;
    encode_value(v, out);
    return out;
}

PVWIRE_DECL Value decode_value(std::span<const std::byte> in) {
    const auto doc = parse_document(in, "value");
    return detail::read_value_document(doc.get(), "document", nullptr);
}

PVWIRE_DECL void encode_partial(const Value& v, const BitSet& changed, std::vector<std::byte>& out) {
    const std::size_t mark = out.size();
    ByteSink sink(&out);
    Packer pk(sink);
    try {
        detail::write_partial(sink, pk, v, changed);
        sink.flush();
    } catch (...) {
        sink.discard();
        out.resize(mark);
        throw;
    }
}

PVWIRE_DECL void decode_partial(std::span<const std::byte> in, Value& into, BitSet& changed) {
    if (!into) throw DecodeError("pvwire msgpack: partial value: no Value to merge into");
    const auto doc = parse_document(in, "partial value");
    detail::read_partial(doc.get(), "partial", into, changed, nullptr);
}

}  // namespace pvwire::msgpack_codec

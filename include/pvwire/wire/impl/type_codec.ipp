#include <pvwire/wire/type_codec.hpp>
#include <pvwire/detail/header_only.hpp>

#include <pvwire/wire/utf8.hpp>

#include <unordered_set>

namespace pvwire::wire {

PVWIRE_IMPL_NAMESPACE(type_codec_impl) {

// pvAccessCPP caches everything but null, scalars and scalar arrays.
PVWIRE_DECL bool cacheable(const TypeDesc& t) noexcept {
    const TypeCode e = type_code::element_of(t.code());
    return e == TypeCode::Struct || e == TypeCode::Union || e == TypeCode::Any;
}

struct TypeDecoder {
    Reader& r;
    TypeCache* cache;
    TypeTrace* trace;

    TypePtr decode(int depth, std::string_view name, bool element) {
        if (!r.ok()) return nullptr;
        if (std::uint32_t(depth) > r.limits().max_depth) {
            r.fail(errc::nesting_too_deep, "type description",
                   "deeper than " + std::to_string(r.limits().max_depth) + " levels");
            return nullptr;
        }
        const std::size_t at = r.pos();
        const std::uint8_t code = r.u8("type code");
        if (!r.ok()) return nullptr;
        switch (code) {
        case 0xFF:
            return nullptr;
        case 0xFD: {
            if (!cache) {
                r.fail(errc::bad_type_code, "type description", "cache definition (0xFD) where no cache applies");
                return nullptr;
            }
            const std::uint16_t key = r.u16("type cache key");
            if (trace && r.ok()) trace->push_back({TypeTraceEvent::Kind::Define, at, depth, key, {}, nullptr});
            // a plain description must follow: 0xFD 0xFD ... would recurse at the same depth
            // without end (nobody sends a definition of a definition or of a reference)
            if (r.ok() && r.remaining() > 0 &&
                (std::uint8_t(*r.cursor()) == 0xFD || std::uint8_t(*r.cursor()) == 0xFE)) {
                r.fail(errc::bad_type_code, "type description",
                       "cache definition of another cache definition or reference");
                return nullptr;
            }
            TypePtr t = decode(depth, name, element);
            if (!r.ok()) return nullptr;
            if (!t) {
                r.fail(errc::bad_type_code, "type description", "cache definition of the null type");
                return nullptr;
            }
            if (!cache->define(key, t, r.limits().max_cached_fields)) {
                r.fail(errc::too_large, "type cache", "peer's cached types exceed the configured total");
                return nullptr;
            }
            return t;
        }
        case 0xFE: {
            if (!cache) {
                r.fail(errc::bad_type_code, "type description", "cache reference (0xFE) where no cache applies");
                return nullptr;
            }
            const std::uint16_t key = r.u16("type cache key");
            if (!r.ok()) return nullptr;
            const TypePtr* t = cache->find(key);
            if (!t) {
                r.fail(errc::unknown_cache_key, "type description", "key " + std::to_string(key) + " was never defined");
                return nullptr;
            }
            // the cached type nests below this point as if it were written out here; without
            // this check chains of definitions could nest without bound
            if (std::uint32_t(depth) + (*t)->depth() > r.limits().max_depth) {
                r.fail(errc::nesting_too_deep, "type description",
                       "cached type " + std::to_string(key) + " nests deeper than " +
                           std::to_string(r.limits().max_depth) + " levels here");
                return nullptr;
            }
            if (trace) trace->push_back({TypeTraceEvent::Kind::Reference, at, depth, key, name, *t});
            return *t;
        }
        default:
            break;
        }
        if (!type_code::is_valid(code)) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "0x%02x", code);
            r.fail(errc::bad_type_code, "type description", std::string("unknown type code ") + buf);
            return nullptr;
        }
        const TypeCode tc = TypeCode(code);
        const ArrayKind ak = type_code::array_kind(code);
        const TypeCode elem = type_code::element_of(tc);
        std::size_t trace_at = trace ? trace->size() : 0;
        if (trace) trace->push_back({TypeTraceEvent::Kind::Field, at, depth, 0, name, nullptr, element});
        TypePtr result;
        if (tc == TypeCode::BoundedString) {
            const auto bound = r.size("bounded string length");
            if (r.ok()) result = TypeDesc::bounded_string(std::uint32_t(bound));
        } else if (elem == TypeCode::Struct || elem == TypeCode::Union) {
            if (ak == ArrayKind::Variable) {
                TypePtr e = decode(depth + 1, {}, true);
                if (!r.ok()) return nullptr;
                if (!e || e->code() != elem) {
                    r.fail(errc::bad_type_code, "type description",
                           elem == TypeCode::Struct ? "structure array element is not a structure"
                                                    : "union array element is not a union");
                    return nullptr;
                }
                result = elem == TypeCode::Struct ? TypeDesc::struct_array(std::move(e))
                                                  : TypeDesc::union_array(std::move(e));
            } else {
                const std::string_view id = r.string("type id");
                if (r.ok() && !valid_utf8(id)) {
                    r.fail(errc::bad_utf8, "type id", "not valid UTF-8");
                    return nullptr;
                }
                const std::size_t n = r.count("member count", 2);
                if (!r.ok()) return nullptr;
                if (n > r.limits().max_members) {
                    r.fail(errc::too_large, "member count", std::to_string(n) + " members");
                    return nullptr;
                }
                std::vector<Member> members;
                members.reserve(n);
                std::unordered_set<std::string> seen;
                std::size_t fields = 1;  // a structure's offsets: itself and all it holds
                for (std::size_t i = 0; i < n && r.ok(); ++i) {
                    const std::string_view mname = r.string("member name");
                    if (r.ok() && !valid_utf8(mname)) {
                        r.fail(errc::bad_utf8, "member name", "not valid UTF-8");
                        return nullptr;
                    }
                    TypePtr mt = decode(depth + 1, mname, false);
                    if (!r.ok()) return nullptr;
                    if (!mt) {
                        r.fail(errc::bad_type_code, "type description",
                               "member '" + std::string(mname) + "' has the null type");
                        return nullptr;
                    }
                    // cache references cost 3 bytes but stand for whole structures
                    fields += mt->offset_count();
                    if (elem == TypeCode::Struct && fields > r.limits().max_fields) {
                        r.fail(errc::too_large, "type description",
                               "structure of more than " + std::to_string(r.limits().max_fields) + " fields");
                        return nullptr;
                    }
                    // duplicate names: a linear scan for small structures, a set for large ones
                    bool dup = false;
                    if (members.size() < 16) {
                        for (const auto& prev : members) dup = dup || prev.name == mname;
                    } else {
                        if (seen.empty())
                            for (const auto& prev : members) seen.insert(prev.name);
                        dup = !seen.insert(std::string(mname)).second;
                    }
                    if (dup) {
                        r.fail(errc::bad_value, "member name", "'" + std::string(mname) + "' appears twice");
                        return nullptr;
                    }
                    members.push_back(Member{std::string(mname), std::move(mt)});
                }
                if (!r.ok()) return nullptr;
                result = elem == TypeCode::Struct ? TypeDesc::structure(std::string(id), std::move(members))
                                                  : TypeDesc::union_of(std::string(id), std::move(members));
            }
        } else if (elem == TypeCode::Any) {
            result = ak == ArrayKind::Variable ? TypeDesc::any_array() : TypeDesc::any();
        } else if (ak == ArrayKind::Bounded || ak == ArrayKind::Fixed) {
            const auto n = r.size(ak == ArrayKind::Bounded ? "array bound" : "fixed array length");
            if (r.ok())
                result = ak == ArrayKind::Bounded ? TypeDesc::bounded_array(elem, std::uint32_t(n))
                                                  : TypeDesc::fixed_array(elem, std::uint32_t(n));
        } else if (ak == ArrayKind::Variable) {
            result = TypeDesc::array(elem);
        } else {
            result = TypeDesc::scalar(tc);
        }
        if (trace && result) (*trace)[trace_at].type = result;
        return r.ok() ? result : nullptr;
    }
};

void encode_plain(Writer& w, const TypeDesc& t, TypeRegistry* reg);

PVWIRE_DECL void encode_any(Writer& w, const TypePtr& t, TypeRegistry* reg) {
    if (!t) {
        w.u8(0xFF);
        return;
    }
    if (reg && cacheable(*t)) {
        if (auto key = reg->find(t)) {
            w.u8(0xFE);
            w.u16(*key);
            return;
        }
        if (auto key = reg->add(t)) {
            w.u8(0xFD);
            w.u16(*key);
        }
    }
    encode_plain(w, *t, reg);
}

PVWIRE_DECL void encode_plain(Writer& w, const TypeDesc& t, TypeRegistry* reg) {
    const TypeCode c = t.code();
    w.u8(type_code::raw(c));
    const ArrayKind ak = type_code::array_kind(type_code::raw(c));
    if (c == TypeCode::BoundedString) {
        w.size(t.bound());
    } else if (c == TypeCode::StructA || c == TypeCode::UnionA) {
        encode_any(w, t.element(), reg);
    } else if (c == TypeCode::Struct || c == TypeCode::Union) {
        w.string(t.id());
        w.size(t.member_count());
        for (std::size_t i = 0; i < t.member_count(); ++i) {
            w.string(t.member_name(i));
            encode_any(w, t.member_type(i), reg);
        }
    } else if (ak == ArrayKind::Bounded || ak == ArrayKind::Fixed) {
        w.size(t.bound());
    }
}

}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(type_codec_impl)

PVWIRE_DECL TypePtr decode_type(Reader& r, TypeCache* cache, TypeTrace* trace) {
    TypeDecoder d{r, cache, trace};
    return d.decode(0, {}, false);
}

PVWIRE_DECL void encode_type(Writer& w, const TypePtr& type, TypeRegistry* registry) {
    encode_any(w, type, registry);
}

}  // namespace pvwire::wire

// The value codec with the run-time Reader and Writer, and the typed-value helpers.
#include <pvwire/wire/impl/value_coders.ipp>

namespace pvwire::wire {

PVWIRE_DECL bool decode_value(Reader& r, Value& v, TypeCache* cache) {
    if (!v) {
        r.fail(errc::unknown_operation, "value", "no type to decode the value with");
        return false;
    }
    ValueDecoder<Reader> d{r, cache};
    d.whole(v, 0);
    return r.ok();
}

PVWIRE_DECL bool decode_partial(Reader& r, Value& v, BitSet& changed, TypeCache* cache) {
    return decode_partial_with(r, v, changed, cache);
}

PVWIRE_DECL void encode_value(Writer& w, const Value& v, TypeRegistry* registry) {
    ValueEncoder<Writer> e{w, registry};
    e.whole(v);
}

PVWIRE_DECL void encode_partial(Writer& w, const Value& v, const BitSet& changed, TypeRegistry* registry) {
    encode_partial_with(w, v, changed, registry);
}


PVWIRE_DECL bool decode_typed_value(Reader& r, Value& out, TypeCache* cache, TypeTrace* trace) {
    TypePtr t = decode_type(r, cache, trace);
    if (!r.ok()) return false;
    if (!t) {
        out = Value();
        return true;
    }
    out = Value(std::move(t));
    return decode_value(r, out, cache);
}

PVWIRE_DECL void encode_typed_value(Writer& w, const Value& v, TypeRegistry* registry) {
    if (!v) {
        w.u8(0xFF);
        return;
    }
    encode_type(w, v.type_ptr(), registry);
    encode_value(w, v, registry);
}

}  // namespace pvwire::wire

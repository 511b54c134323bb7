// Text forms of a Value: see value_format.hpp. The Delta and Tree layouts follow PVXS's
// tools (facts from its src/datafmt.cpp, src/sharedarray.cpp and src/type.cpp): numbers as an
// ostream prints them (%g, six digits), arrays as "{N}[a, b, ...]", strings quoted.
#include <pvwire/data/value_format.hpp>
#include <pvwire/detail/header_only.hpp>

#include <pvwire/data/shared_array.hpp>
#include <pvwire/data/type_desc.hpp>

#include <charconv>
#include <cstdio>

namespace pvwire {

PVWIRE_DECL const char* pvxs_type_name(TypeCode code) noexcept {
    // PVXS has no bounded or fixed arrays: name them as the variable array of their element
    if (type_code::is_array(code) && type_code::array_kind(type_code::raw(code)) != ArrayKind::Variable)
        return pvxs_type_name(type_code::array_of(type_code::element_of(code)));
    switch (code) {
    case TypeCode::Bool: return "bool";
    case TypeCode::Int8: return "int8_t";
    case TypeCode::Int16: return "int16_t";
    case TypeCode::Int32: return "int32_t";
    case TypeCode::Int64: return "int64_t";
    case TypeCode::UInt8: return "uint8_t";
    case TypeCode::UInt16: return "uint16_t";
    case TypeCode::UInt32: return "uint32_t";
    case TypeCode::UInt64: return "uint64_t";
    case TypeCode::Float32: return "float";
    case TypeCode::Float64: return "double";
    case TypeCode::String: return "string";
    case TypeCode::BoundedString: return "string";
    case TypeCode::Struct: return "struct";
    case TypeCode::Union: return "union";
    case TypeCode::Any: return "any";
    case TypeCode::BoolA: return "bool[]";
    case TypeCode::Int8A: return "int8_t[]";
    case TypeCode::Int16A: return "int16_t[]";
    case TypeCode::Int32A: return "int32_t[]";
    case TypeCode::Int64A: return "int64_t[]";
    case TypeCode::UInt8A: return "uint8_t[]";
    case TypeCode::UInt16A: return "uint16_t[]";
    case TypeCode::UInt32A: return "uint32_t[]";
    case TypeCode::UInt64A: return "uint64_t[]";
    case TypeCode::Float32A: return "float[]";
    case TypeCode::Float64A: return "double[]";
    case TypeCode::StringA: return "string[]";
    case TypeCode::StructA: return "struct[]";
    case TypeCode::UnionA: return "union[]";
    case TypeCode::AnyA: return "any[]";
    default: return "???_t";
    }
}

PVWIRE_IMPL_NAMESPACE(value_format_impl) {

PVWIRE_DECL bool is_compound(TypeCode c) {
    return c == TypeCode::Struct || c == TypeCode::Union || c == TypeCode::Any || c == TypeCode::StructA ||
           c == TypeCode::UnionA || c == TypeCode::AnyA;
}

PVWIRE_DECL void pad(std::string& out, int levels) { out.append(std::size_t(levels > 0 ? levels : 0) * 4, ' '); }

// %g with six digits: what `std::ostream << double` prints, as PVXS's tools do.
PVWIRE_DECL void append_g(std::string& out, double d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", d);
    out += buf;
}

// The shortest text that reads back as the same number (pvget form).
template <class F> void append_shortest(std::string& out, F d) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, d);
    out.append(buf, r.ptr);
}

// One scalar element of an array: `pvxs` chooses %g for floating point, else the pvget form.
PVWIRE_DECL void append_element(std::string& out, const SharedArray& a, std::size_t i, bool pvxs) {
    type_code::visit_scalar_type(a.element_code(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        if constexpr (std::is_void_v<T>) out += '?';
        else if constexpr (std::is_same_v<T, bool>) out += a.span<bool>()[i] ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::string>) append_quoted(out, a.span<std::string>()[i]);
        else if constexpr (std::is_floating_point_v<T>) {
            if (pvxs) append_g(out, a.span<T>()[i]);
            else if constexpr (std::is_same_v<T, float>) append_shortest(out, a.span<float>()[i]);
            else out += detail::format_double(a.span<double>()[i]);
        } else out += std::to_string(+a.span<T>()[i]);  // + : int8_t/uint8_t print as numbers
    });
}

// A scalar field's value: PVXS (%g for floating point) or pvget form.
PVWIRE_DECL void append_scalar(std::string& out, const Value& v, bool pvxs) {
    const TypeCode c = v.code();
    if (type_code::is_string(c)) append_quoted(out, v.as<std::string>());
    else if (c == TypeCode::Bool) out += v.as<bool>() ? "true" : "false";
    else if (pvxs && type_code::is_float(c)) append_g(out, v.as<double>());
    else out += v.as<std::string>();
}

// "{8}[0, 0.5, ...]" as PVXS prints a scalar array.
PVWIRE_DECL void append_pvxs_array(std::string& out, const SharedArray& a, std::size_t limit) {
    out += '{' + std::to_string(a.size()) + "}[";
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (i) out += ", ";
        if (limit && i >= limit) {
            out += "...";
            break;
        }
        append_element(out, a, i, true);
    }
    out += ']';
}

PVWIRE_DECL std::string join(const std::string& prefix, std::string_view name) {
    return prefix.empty() ? std::string(name) : prefix + "." + std::string(name);
}

// ---- Delta --------------------------------------------------------------------------------

class DeltaPrinter {
public:
    DeltaPrinter(std::string& out, const FormatOptions& o) : out_(out), o_(o) {}

    void top(const std::string& prefix, const Value& v, bool very_top) {
        if (!v) {
            line_start(prefix, very_top);
            out_ += "null\n";
            return;
        }
        if (!very_top || v.is_marked()) field(prefix, v, very_top);
        if (v.code() == TypeCode::Struct) marked_members(prefix, v, very_top && v.is_marked());
    }

private:
    void line_start(const std::string& prefix, bool very_top) {
        pad(out_, o_.indent);
        out_ += prefix;
        if (!very_top) out_ += ' ';
    }

    // Depth-first, every field that is marked or lies in a marked structure.
    void marked_members(const std::string& prefix, const Value& s, bool inherited) {
        const TypeDesc& t = s.type();
        for (std::size_t i = 0; i < t.member_count(); ++i) {
            const Value m = s.member(i);
            const std::string path = join(prefix, t.member_name(i));
            const bool marked = inherited || m.is_marked();
            if (marked) field(path, m, false);
            if (m.code() == TypeCode::Struct) marked_members(path, m, marked);
        }
    }

    void field(const std::string& prefix, const Value& v, bool very_top) {
        const TypeDesc& t = v.type();
        line_start(prefix, very_top);
        out_ += pvxs_type_name(t.code());
        if (t.code() == TypeCode::Struct && !t.id().empty()) {
            out_ += ' ';
            append_quoted(out_, t.id());
        }
        if (type_code::is_array(t.code()) && !is_compound(t.code())) {
            out_ += " = ";
            append_pvxs_array(out_, v.array(), o_.array_limit);
        } else if (!is_compound(t.code())) {
            out_ += " = ";
            append_scalar(out_, v, true);
        }
        out_ += '\n';
        if (t.code() == TypeCode::Union || t.code() == TypeCode::Any) {
            std::string inner = prefix + "->";
            if (t.code() == TypeCode::Union) inner += v.selected_name();
            whole(inner, v.contained());
        } else if (is_compound(t.code()) && type_code::is_array(t.code())) {
            const auto elements = v.array().span<Value>();
            for (std::size_t i = 0; i < elements.size(); ++i)
                whole(prefix + "[" + std::to_string(i) + "]", elements[i]);
        }
    }

    // A contained value or array element: decoded whole, so every field of it is printed.
    void whole(const std::string& prefix, const Value& v) {
        if (!v) return top(prefix, v, false);
        field(prefix, v, false);
        if (v.code() == TypeCode::Struct) marked_members(prefix, v, true);
    }

    std::string& out_;
    const FormatOptions& o_;
};

// ---- Tree ---------------------------------------------------------------------------------

class TreePrinter {
public:
    TreePrinter(std::string& out, const FormatOptions& o) : out_(out), o_(o) {}

    // Each call writes at least one whole line; the caller wrote the indentation.
    void show(const Value& v, std::string_view member, int depth) {
        if (!v) {
            out_ += "null\n";
            return;
        }
        const TypeDesc& t = v.type();
        const TypeCode c = t.code();
        out_ += pvxs_type_name(c);
        if (!t.id().empty()) {
            out_ += ' ';
            append_quoted(out_, t.id());
        }
        if (!is_compound(c)) return scalar(v, member);
        if (c == TypeCode::Any || c == TypeCode::Union) return contained(v, member, depth);
        if (c == TypeCode::Struct) return structure(v, member, depth);
        element_array(v, member, depth);
    }

private:
    void name(std::string_view member) {
        if (!member.empty()) (out_ += ' ') += member;
    }
    void scalar(const Value& v, std::string_view member) {
        name(member);
        out_ += " = ";
        if (type_code::is_array(v.code())) append_pvxs_array(out_, v.array(), o_.array_limit);
        else append_scalar(out_, v, true);
        out_ += '\n';
    }
    // any NAME TYPE = VALUE;  union NAME.MEMBER TYPE = VALUE
    void contained(const Value& v, std::string_view member, int depth) {
        name(member);
        const Value inner = v.contained();
        if (v.code() == TypeCode::Union && inner) (out_ += '.') += v.selected_name();
        out_ += ' ';
        show(inner, {}, depth);
    }
    // struct "ID" { ... } NAME
    void structure(const Value& v, std::string_view member, int depth) {
        const TypeDesc& t = v.type();
        out_ += " {";
        for (std::size_t i = 0; i < t.member_count(); ++i) {
            if (i == 0) out_ += '\n';
            pad(out_, depth + 1);
            show(v.member(i), t.member_name(i), depth + 1);
        }
        if (t.member_count()) pad(out_, depth);
        out_ += '}';
        name(member);
        out_ += '\n';
    }
    // struct[] NAME = {N}[ one element per line ]
    void element_array(const Value& v, std::string_view member, int depth) {
        name(member);
        const auto elements = v.array().span<Value>();
        out_ += " = {" + std::to_string(elements.size()) + "}[";
        std::size_t shown = 0;
        for (const auto& e : elements) {
            if (!shown) out_ += '\n';
            pad(out_, depth + 1);
            if (o_.array_limit && shown >= o_.array_limit) {
                out_ += "...\n";
                break;
            }
            show(e, {}, depth + 1);
            ++shown;
        }
        if (shown) pad(out_, depth);
        out_ += "]\n";
    }

    std::string& out_;
    const FormatOptions& o_;
};

// ---- Pvget --------------------------------------------------------------------------------

class PvgetPrinter {
public:
    PvgetPrinter(std::string& out, const FormatOptions& o) : out_(out), o_(o) {}

    void show(const Value& v, std::string_view name, int depth) {
        const TypeDesc& t = v.type();
        pad(out_, depth);
        out_ += t.type_name();
        if ((t.code() == TypeCode::Struct || t.code() == TypeCode::Union) && !t.id().empty()) (out_ += ' ') += t.id();
        if (!name.empty()) (out_ += ' ') += name;
        if (t.code() == TypeCode::Struct) {
            out_ += '\n';
            for (std::size_t i = 0; i < t.member_count(); ++i) show(v.member(i), t.member_name(i), depth + 1);
            return;
        }
        if (t.code() == TypeCode::Union || t.code() == TypeCode::Any) {
            const Value c = v.contained();
            if (!c) {
                out_ += " (none)\n";
                return;
            }
            if (t.code() == TypeCode::Union) (out_ += " .") += v.selected_name();
            out_ += '\n';
            show(c, {}, depth + 1);
            return;
        }
        out_ += ' ';
        if (type_code::is_array(t.code())) array(v.array(), depth);
        else append_scalar(out_, v, false);
        out_ += '\n';
    }

private:
    // Scalar arrays: "[1, 2, ...] (10 elements)"; structure/union/any arrays: one element per line.
    void array(const SharedArray& a, int depth) {
        const std::size_t limit = o_.array_limit;
        const std::size_t shown = limit && a.size() > limit ? limit : a.size();
        out_ += '[';
        if (is_compound(a.element_code())) {
            const auto vs = a.span<Value>();
            if (!vs.empty()) out_ += '\n';
            for (std::size_t i = 0; i < shown; ++i) {
                if (vs[i]) {
                    show(vs[i], {}, depth + 1);
                } else {
                    pad(out_, depth + 1);
                    out_ += "null\n";
                }
            }
            if (shown < vs.size()) {
                pad(out_, depth + 1);
                out_ += "... (" + std::to_string(vs.size()) + " elements)\n";
            }
            if (!vs.empty()) pad(out_, depth);
            out_ += ']';
            return;
        }
        for (std::size_t i = 0; i < shown; ++i) {
            if (i) out_ += ", ";
            append_element(out_, a, i, false);
        }
        out_ += shown < a.size() ? ", ...] (" + std::to_string(a.size()) + " elements)" : "]";
    }

    std::string& out_;
    const FormatOptions& o_;
};

}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(value_format_impl)

PVWIRE_DECL std::string format_value(const Value& v, const FormatOptions& o) {
    std::string out;
    switch (o.format) {
    case ValueFormat::Delta: DeltaPrinter(out, o).top({}, v, true); break;
    case ValueFormat::Tree:
        pad(out, o.indent);
        TreePrinter(out, o).show(v, {}, o.indent);
        break;
    case ValueFormat::Pvget:
        if (!v) {
            pad(out, o.indent);
            out += "(null)\n";
        } else {
            PvgetPrinter(out, o).show(v, {}, o.indent);
        }
        break;
    }
    return out;
}

}  // namespace pvwire

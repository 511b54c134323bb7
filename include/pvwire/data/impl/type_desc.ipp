#include <pvwire/data/type_desc.hpp>
#include <pvwire/detail/header_only.hpp>

#include <functional>
#include <stdexcept>

namespace pvwire {

PVWIRE_IMPL_NAMESPACE(type_desc_impl) {
PVWIRE_DECL std::size_t mix(std::size_t h, std::size_t v) noexcept {
    return h ^ (v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));
}
}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(type_desc_impl)

PVWIRE_DECL TypeDesc::TypeDesc(Private, TypeCode code, std::string id, std::uint32_t bound,
                   std::vector<Member> members, TypePtr element)
    : code_(code), bound_(bound), id_(std::move(id)), members_(std::move(members)),
      element_(std::move(element)) {
    std::size_t h = mix(std::hash<std::string>{}(id_), type_code::raw(code_));
    h = mix(h, bound_);
    for (std::size_t i = 0; i < members_.size(); ++i) {
        const auto& m = members_[i];
        if (!m.type) throw std::invalid_argument("pvwire: member '" + m.name + "' has no type");
        for (std::size_t j = 0; j < i; ++j)
            if (members_[j].name == m.name)
                throw std::invalid_argument("pvwire: member name '" + m.name + "' appears twice");
        h = mix(mix(h, std::hash<std::string>{}(m.name)), m.type->hash());
        depth_ = std::max(depth_, m.type->depth_ + 1);
    }
    if (element_) {
        h = mix(h, element_->hash());
        depth_ = element_->depth_ + 1;
    }
    if (code_ == TypeCode::Struct || code_ == TypeCode::Union || code_ == TypeCode::Any ||
        code_ == TypeCode::AnyA)
        depth_ = std::max<std::uint32_t>(depth_, 1);
    hash_ = h;

    if (code_ == TypeCode::Struct) {
        flat_.push_back(FlatField{this, 0, 0, {}});
        member_offsets_.reserve(members_.size());
        for (const auto& m : members_) {
            const auto base = std::uint32_t(flat_.size());
            member_offsets_.push_back(base);
            if (m.type->code_ == TypeCode::Struct) {
                const auto& sub = m.type->flat_;
                for (std::size_t k = 0; k < sub.size(); ++k)
                    flat_.push_back(FlatField{sub[k].type, k == 0 ? 0u : sub[k].parent + base,
                                              sub[k].end + base, sub[k].name});
                flat_[base].name = m.name;
            } else {
                flat_.push_back(FlatField{m.type.get(), 0, base + 1, m.name});
            }
        }
        flat_[0].end = std::uint32_t(flat_.size());
    }
}

PVWIRE_DECL TypePtr TypeDesc::scalar(TypeCode code) {
    if (!(type_code::is_scalar(code) && code != TypeCode::BoundedString) && code != TypeCode::Any)
        throw std::invalid_argument("pvwire: TypeDesc::scalar needs a scalar type code");
    return std::make_shared<const TypeDesc>(Private{}, code, std::string{}, 0, std::vector<Member>{},
                                            nullptr);
}
PVWIRE_DECL TypePtr TypeDesc::array(TypeCode element) {
    if (!((type_code::is_scalar(element) && element != TypeCode::BoundedString) ||
          element == TypeCode::Any))
        throw std::invalid_argument("pvwire: TypeDesc::array needs a scalar or Any element code");
    return std::make_shared<const TypeDesc>(Private{}, type_code::array_of(element), std::string{},
                                            0, std::vector<Member>{}, nullptr);
}
PVWIRE_DECL TypePtr TypeDesc::bounded_string(std::uint32_t max_length) {
    return std::make_shared<const TypeDesc>(Private{}, TypeCode::BoundedString, std::string{},
                                            max_length, std::vector<Member>{}, nullptr);
}
PVWIRE_DECL TypePtr TypeDesc::bounded_array(TypeCode element, std::uint32_t bound) {
    if (!type_code::is_scalar(element) || element == TypeCode::BoundedString)
        throw std::invalid_argument("pvwire: bounded arrays exist only for scalar elements");
    return std::make_shared<const TypeDesc>(Private{}, TypeCode(type_code::raw(element) | 0x10),
                                            std::string{}, bound, std::vector<Member>{}, nullptr);
}
PVWIRE_DECL TypePtr TypeDesc::fixed_array(TypeCode element, std::uint32_t length) {
    if (!type_code::is_scalar(element) || element == TypeCode::BoundedString)
        throw std::invalid_argument("pvwire: fixed arrays exist only for scalar elements");
    return std::make_shared<const TypeDesc>(Private{}, TypeCode(type_code::raw(element) | 0x18),
                                            std::string{}, length, std::vector<Member>{}, nullptr);
}
PVWIRE_DECL TypePtr TypeDesc::structure(std::string id, std::vector<Member> members) {
    return std::make_shared<const TypeDesc>(Private{}, TypeCode::Struct, std::move(id), 0,
                                            std::move(members), nullptr);
}
PVWIRE_DECL TypePtr TypeDesc::union_of(std::string id, std::vector<Member> members) {
    return std::make_shared<const TypeDesc>(Private{}, TypeCode::Union, std::move(id), 0,
                                            std::move(members), nullptr);
}
PVWIRE_DECL TypePtr TypeDesc::struct_array(TypePtr element_struct) {
    if (!element_struct || element_struct->code() != TypeCode::Struct)
        throw std::invalid_argument("pvwire: a structure array needs a structure element");
    return std::make_shared<const TypeDesc>(Private{}, TypeCode::StructA, std::string{}, 0,
                                            std::vector<Member>{}, std::move(element_struct));
}
PVWIRE_DECL TypePtr TypeDesc::union_array(TypePtr element_union) {
    if (!element_union || element_union->code() != TypeCode::Union)
        throw std::invalid_argument("pvwire: a union array needs a union element");
    return std::make_shared<const TypeDesc>(Private{}, TypeCode::UnionA, std::string{}, 0,
                                            std::vector<Member>{}, std::move(element_union));
}

PVWIRE_DECL std::optional<std::size_t> TypeDesc::member_index(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < members_.size(); ++i)
        if (members_[i].name == name) return i;
    return std::nullopt;
}

PVWIRE_DECL std::optional<std::uint32_t> TypeDesc::offset_of(std::string_view path) const noexcept {
    const TypeDesc* cur = this;
    std::uint32_t off = 0;
    while (!path.empty()) {
        if (cur->code_ != TypeCode::Struct) return std::nullopt;
        const auto dot = path.find('.');
        const auto part = path.substr(0, dot);
        const auto idx = cur->member_index(part);
        if (!idx) return std::nullopt;
        off += cur->member_offsets_[*idx];
        cur = cur->members_[*idx].type.get();
        path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
    }
    return off;
}

PVWIRE_DECL bool operator==(const TypeDesc& a, const TypeDesc& b) noexcept {
    if (&a == &b) return true;
    if (a.hash_ != b.hash_ || a.code_ != b.code_ || a.bound_ != b.bound_ || a.id_ != b.id_ ||
        a.members_.size() != b.members_.size())
        return false;
    for (std::size_t i = 0; i < a.members_.size(); ++i)
        if (a.members_[i].name != b.members_[i].name || !(*a.members_[i].type == *b.members_[i].type))
            return false;
    return same_type(a.element_, b.element_);
}

PVWIRE_DECL bool same_type(const TypePtr& a, const TypePtr& b) noexcept {
    if (a == b) return true;
    if (!a || !b) return false;
    return *a == *b;
}

PVWIRE_DECL std::string TypeDesc::type_name() const {
    const auto kind = type_code::array_kind(type_code::raw(code_));
    std::string n(type_code::name(code_));
    if (code_ == TypeCode::BoundedString) return n + "(" + std::to_string(bound_) + ")";
    if (kind == ArrayKind::Bounded) {
        n.resize(n.size() - 1);
        return n + "<" + std::to_string(bound_) + "]";
    }
    if (kind == ArrayKind::Fixed) {
        n.resize(n.size() - 1);
        return n + std::to_string(bound_) + "]";
    }
    return n;
}

PVWIRE_IMPL_NAMESPACE(type_desc_impl) {
PVWIRE_DECL void print_type(std::string& out, const TypeDesc& t, std::string_view name, int indent) {
    out.append(std::size_t(indent) * 4, ' ');
    const TypeDesc* shown = &t;
    std::string tn = t.type_name();
    if (t.element()) shown = t.element().get();
    if (shown->code() == TypeCode::Struct || shown->code() == TypeCode::Union) {
        out += tn;
        if (!shown->id().empty()) out += " " + shown->id();
    } else {
        out += tn;
    }
    if (!name.empty()) (out += ' ') += name;
    out += '\n';
    for (std::size_t i = 0; i < shown->member_count(); ++i)
        print_type(out, *shown->member_type(i), shown->member_name(i), indent + 1);
}
}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(type_desc_impl)

PVWIRE_DECL std::string to_string(const TypeDesc& type) {
    std::string out;
    print_type(out, type, {}, 0);
    return out;
}

}  // namespace pvwire

/// @file
/// TypeDesc: an immutable, shareable description of a pvData type (a "FieldDesc" on the wire).
///
/// A TypeDesc is built once and then only shared (TypePtr); nothing mutates it, so it may be
/// used from any thread. Structures precompute their depth-first field numbering ("offsets",
/// protocol.md §3.5): offset 0 is the structure itself and every nested field, structure nodes
/// included, gets the next number. BitSets on the wire and Value's changed marks use it.
#pragma once

#include <pvwire/data/type_code.hpp>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pvwire {

class TypeDesc;
using TypePtr = std::shared_ptr<const TypeDesc>;

/// One named member of a structure or union, as given to the builders.
struct Member {
    std::string name;
    TypePtr type;
};

class TypeDesc {
public:
    /// One entry per offset of a structure's subtree (entry 0 is the structure itself).
    struct FlatField {
        const TypeDesc* type;   ///< the field's type (owned by the tree)
        std::uint32_t parent;   ///< offset of the enclosing structure (0 for entry 0 itself)
        std::uint32_t end;      ///< one past the last offset of this field's subtree
        std::string_view name;  ///< member name ("" for entry 0)
    };

    // -- builders ------------------------------------------------------------------------
    static TypePtr scalar(TypeCode code);                       ///< numeric, string, Any
    static TypePtr array(TypeCode element);                      ///< variable array of a scalar / Any
    static TypePtr bounded_string(std::uint32_t max_length);
    static TypePtr bounded_array(TypeCode element, std::uint32_t bound);
    static TypePtr fixed_array(TypeCode element, std::uint32_t length);
    static TypePtr structure(std::string id, std::vector<Member> members);
    static TypePtr union_of(std::string id, std::vector<Member> members);
    static TypePtr struct_array(TypePtr element_struct);
    static TypePtr union_array(TypePtr element_union);
    static TypePtr any() { return scalar(TypeCode::Any); }
    static TypePtr any_array() { return array(TypeCode::Any); }

    // -- inspection ----------------------------------------------------------------------
    TypeCode code() const noexcept { return code_; }
    const std::string& id() const noexcept { return id_; }
    /// Bounded string max length, bounded array bound, fixed array length; 0 otherwise.
    std::uint32_t bound() const noexcept { return bound_; }

    std::size_t member_count() const noexcept { return members_.size(); }
    const std::string& member_name(std::size_t i) const { return members_[i].name; }
    const TypePtr& member_type(std::size_t i) const { return members_[i].type; }
    const std::vector<Member>& members() const noexcept { return members_; }
    std::optional<std::size_t> member_index(std::string_view name) const noexcept;

    /// Element type of a structure or union array (the structure/union description).
    const TypePtr& element() const noexcept { return element_; }

    /// Number of offsets this field occupies: 1 + descendants for structures, 1 otherwise.
    std::uint32_t offset_count() const noexcept {
        return flat_.empty() ? 1u : std::uint32_t(flat_.size());
    }
    /// Structures: the depth-first table of the subtree; empty for other types.
    const std::vector<FlatField>& flat() const noexcept { return flat_; }
    /// Structures: offset (relative to this structure) of member i.
    std::uint32_t member_offset(std::size_t i) const { return member_offsets_[i]; }
    /// Structures: offset of a dotted path ("alarm.severity"), relative to this structure.
    std::optional<std::uint32_t> offset_of(std::string_view path) const noexcept;
    /// Nesting depth of compound types (1 for a flat structure, 0 for scalars).
    std::uint32_t depth() const noexcept { return depth_; }

    /// Structural equality: same code, id, bound, member names and member types.
    friend bool operator==(const TypeDesc& a, const TypeDesc& b) noexcept;
    std::size_t hash() const noexcept { return hash_; }

    /// The pvData name of this type alone: "double", "structure", "union[]", "string(16)".
    std::string type_name() const;

    /// Public only so std::make_shared can reach it; use the builders.
    struct Private {};
    TypeDesc(Private, TypeCode code, std::string id, std::uint32_t bound, std::vector<Member> members,
             TypePtr element);

private:
    TypeCode code_;
    std::uint32_t bound_ = 0;
    std::uint32_t depth_ = 0;
    std::size_t hash_ = 0;
    std::string id_;
    std::vector<Member> members_;
    std::vector<std::uint32_t> member_offsets_;
    std::vector<FlatField> flat_;
    TypePtr element_;
};

/// Equality through pointers, treating two nulls as equal.
bool same_type(const TypePtr& a, const TypePtr& b) noexcept;

/// Indented text of the whole tree, one field per line, like `pvxinfo` prints.
std::string to_string(const TypeDesc& type);

struct TypeHash {
    std::size_t operator()(const TypePtr& t) const noexcept { return t ? t->hash() : 0; }
};
struct TypeEqual {
    bool operator()(const TypePtr& a, const TypePtr& b) const noexcept { return same_type(a, b); }
};

}  // namespace pvwire

#ifdef PVWIRE_HEADER_ONLY
#include <pvwire/data/impl/type_desc.ipp>
#endif

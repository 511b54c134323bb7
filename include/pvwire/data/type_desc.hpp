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
/// Types are immutable and shared: every value and field refers to its type through one.
using TypePtr = std::shared_ptr<const TypeDesc>;

/// One named member of a structure or union, as given to the builders.
struct Member {
    std::string name;  ///< member name
    TypePtr type;      ///< member type
};

/// A pvData type (FieldDesc): a scalar, an array, a structure or union with named members, or
/// any. Built with the static builders (which throw std::invalid_argument on a bad
/// combination) and never changed afterwards.
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
    static TypePtr bounded_string(std::uint32_t max_length);     ///< string(max_length)
    static TypePtr bounded_array(TypeCode element, std::uint32_t bound);  ///< array of at most `bound` scalars
    static TypePtr fixed_array(TypeCode element, std::uint32_t length);  ///< array of exactly `length` scalars
    static TypePtr structure(std::string id, std::vector<Member> members);  ///< names unique, every member typed
    static TypePtr union_of(std::string id, std::vector<Member> members);  ///< names unique, every member typed
    static TypePtr struct_array(TypePtr element_struct);         ///< array of a structure type
    static TypePtr union_array(TypePtr element_union);           ///< array of a union type
    static TypePtr any() { return scalar(TypeCode::Any); }       ///< variant union ("any")
    static TypePtr any_array() { return array(TypeCode::Any); }  ///< array of any

    // -- inspection ----------------------------------------------------------------------
    /// The type code (arrays carry their element code with the array bits).
    TypeCode code() const noexcept { return code_; }
    /// Structure or union id ("epics:nt/NTScalar:1.0"); empty for other types.
    const std::string& id() const noexcept { return id_; }
    /// Bounded string max length, bounded array bound, fixed array length; 0 otherwise.
    std::uint32_t bound() const noexcept { return bound_; }

    /// Structures and unions: number of members; 0 otherwise.
    std::size_t member_count() const noexcept { return members_.size(); }
    /// Name of member i (no bounds check).
    const std::string& member_name(std::size_t i) const { return members_[i].name; }
    /// Type of member i (no bounds check).
    const TypePtr& member_type(std::size_t i) const { return members_[i].type; }
    /// The members in declaration order.
    const std::vector<Member>& members() const noexcept { return members_; }
    /// Index of the member called `name`, if any.
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
    /// A hash consistent with operator== (computed once, at construction).
    std::size_t hash() const noexcept { return hash_; }

    /// The pvData name of this type alone: "double", "structure", "union[]", "string(16)".
    std::string type_name() const;

    /// Public only so std::make_shared can reach it; use the builders.
    struct Private {};
    /// For the builders only (see Private).
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

/// Hashes a TypePtr by structure (for unordered containers keyed by type; see TypeEqual).
struct TypeHash {
    /// TypeDesc::hash() of `t`; 0 for null.
    std::size_t operator()(const TypePtr& t) const noexcept { return t ? t->hash() : 0; }
};
/// Compares TypePtrs by structure (same_type()).
struct TypeEqual {
    /// same_type(a, b).
    bool operator()(const TypePtr& a, const TypePtr& b) const noexcept { return same_type(a, b); }
};

}  // namespace pvwire

#ifdef PVWIRE_HEADER_ONLY
#include <pvwire/data/impl/type_desc.ipp>
#endif

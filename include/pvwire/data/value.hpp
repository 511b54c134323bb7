/// @file
/// Value: a pvData value of any type, a tree of fields over one TypeDesc.
///
/// A Value is a handle: copying it (or taking a field with operator[]) refers to the same
/// storage, as in PVXS. clone() makes an independent deep copy (array payloads stay shared,
/// since arrays are immutable). Each top-level value keeps one "changed" mark per field
/// offset; the marks of a structure are exactly the BitSet a partial value carries on the wire.
///
/// Thread safety: a Value may be read from several threads at once; writes need exclusive
/// access to the whole tree (all handles to it).
#pragma once

#include <pvwire/data/bitset.hpp>
#include <pvwire/data/shared_array.hpp>
#include <pvwire/data/type_desc.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace pvwire {

/// Appends `s` in double quotes, with quotes and backslashes escaped and control characters as
/// `\xNN`: the form strings take in Value::to_string() and the tools.
void append_quoted(std::string& out, std::string_view s);

/// Field access or conversion that cannot be done; what() names the field and the types.
class ValueError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Value;

namespace detail {
/// Numeric scalar storage: signed integers sign-extended in i, unsigned in u, floats in d.
struct Number {
    union {
        std::int64_t i;
        std::uint64_t u;
        double d;
    };
    Number() : u(0) {}

    /// The member that holds a T (one of the numeric element types of type_code::visit_scalar_type).
    template <class T> T get() const noexcept {
        if constexpr (std::is_same_v<T, bool>) return u != 0;
        else if constexpr (std::is_floating_point_v<T>) return T(d);
        else if constexpr (std::is_signed_v<T>) return T(i);
        else return T(u);
    }
    template <class T> void put(T v) noexcept {
        if constexpr (std::is_same_v<T, bool>) u = v ? 1 : 0;
        else if constexpr (std::is_floating_point_v<T>) d = v;
        else if constexpr (std::is_signed_v<T>) i = v;
        else u = v;
    }
};
struct UnionSlot;
struct ValueStore;
}  // namespace detail

/// A pvData value of any type: a handle to a tree of fields over one TypeDesc, or null (see
/// the file's description for sharing, marks and thread safety).
class Value {
public:
    Value() = default;
    /// A new value of `type`, every field zero / empty, no marks.
    explicit Value(TypePtr type);

    /// Whether this handle refers to a value (a default-constructed Value is null).
    bool valid() const noexcept { return store_ != nullptr; }
    /// Same as valid().
    explicit operator bool() const noexcept { return valid(); }

    /// The type of this field; throws on a null Value.
    const TypeDesc& type() const;
    /// The type as a shared pointer (shares ownership with the whole tree's type).
    TypePtr type_ptr() const;
    /// The type code of this field.
    TypeCode code() const { return type().code(); }
    /// Offset of this field within its top-level value.
    std::uint32_t offset() const noexcept { return offset_; }
    /// The top-level value this field belongs to.
    Value root() const;

    // -- navigation -------------------------------------------------------------------
    /// Field by member name or dotted path ("alarm.severity"); throws ValueError if absent.
    Value operator[](std::string_view path) const;
    /// Same, but a null Value when absent.
    Value field(std::string_view path) const noexcept;
    /// Member i of a structure.
    Value member(std::size_t i) const;
    /// Number of members of a structure (or union).
    std::size_t member_count() const { return type().member_count(); }
    /// Name of member i.
    std::string_view member_name(std::size_t i) const { return type().member_name(i); }

    // -- scalars ----------------------------------------------------------------------
    /// Reads with conversion (numbers <-> numbers with range check, numbers <-> strings,
    /// bool <-> numbers, enum-like structures by index); throws ValueError when impossible.
    template <class T> T as() const {
        T out{};
        std::string why;
        if (!convert_to(out, &why)) throw ValueError(why);
        return out;
    }
    /// Same as as(), but nullopt when the conversion is impossible.
    template <class T> std::optional<T> try_as() const {
        T out{};
        if (!convert_to(out, nullptr)) return std::nullopt;
        return out;
    }
    /// Writes with conversion and marks the field changed; throws ValueError when impossible.
    template <class T> void set(const T& v) {
        std::string why;
        if (!convert_from(v, &why)) throw ValueError(why);
    }
    /// Same as set(), but false when the conversion is impossible.
    template <class T> bool try_set(const T& v) { return convert_from(v, nullptr); }
    /// `v["value"] = 4.5` is set(); assigning a Value re-points the handle instead.
    template <class T, std::enable_if_t<!std::is_same_v<std::decay_t<T>, Value>, int> = 0>
    Value& operator=(const T& v) {
        set(v);
        return *this;
    }

    // -- arrays -----------------------------------------------------------------------
    /// The array payload (shared, never copied). Throws if this is not an array field.
    SharedArray array() const;
    /// Replaces the payload; element types must match the field (no implicit conversion,
    /// use set(std::vector<T>) for that). Marks changed.
    void set_array(SharedArray a);
    /// Number of elements of the array payload.
    std::size_t array_size() const { return array().size(); }

    // -- unions and variants ------------------------------------------------------------
    /// Union: index of the selected member, or -1.
    int selected() const;
    /// Union: the selected member's name ("" if none).
    std::string_view selected_name() const;
    /// Union/any: the contained value (null if none).
    Value contained() const;
    ///@{
    /// Union: select a member (by name or index) and return it; marks changed. A member that
    /// was not selected before starts as a fresh zero value; re-selecting keeps its content.
    Value select(std::string_view member);
    Value select(std::size_t index);
    ///@}
    /// Union: clear the selection. Any: empty it. Marks changed.
    void clear_selection();
    /// Any: hold `v` (shared, not copied). Union: v must have the type of one member, which
    /// gets selected. Marks changed.
    void set_contained(Value v);

    // -- changed marks ----------------------------------------------------------------
    /// Whether this field itself is marked.
    bool is_marked() const;
    /// Marks this field (and nothing else).
    void mark(bool on = true);
    /// Clears the marks of this field and everything below it.
    void unmark();
    /// Marks every field of this subtree.
    void mark_all();
    ///@{
    /// The marks of the whole top-level value, as field offsets.
    const BitSet& marks() const;
    BitSet& marks();
    ///@}
    /// Is this field, any field below it, or any structure above it marked?
    bool is_changed() const;

    // -- whole-value operations ---------------------------------------------------------
    /// An independent deep copy of this field as a new top-level value (marks copied). Array
    /// payloads, including the element Values of structure/union/any arrays, are shared: arrays
    /// are immutable by convention (replace them with set_array(), never modify elements).
    Value clone() const;
    /// Copies content from `other` into this value, field by field matched by name for
    /// structures (fields absent from either side are skipped), converting scalars; marks
    /// every field it writes. Throws ValueError on an impossible conversion.
    void assign(const Value& other);
    /// Same type and same content (marks are not compared).
    bool equals(const Value& other) const;
    /// Same as a.equals(b).
    friend bool operator==(const Value& a, const Value& b) { return a.equals(b); }

    /// A readable multi-line text form:  `double value 3.25` per line, indented.
    std::string to_string() const;

    // -- for codecs -----------------------------------------------------------------------
    ///@{
    /// Direct slot access, used by the wire and msgpack codecs.
    detail::ValueStore* store() const noexcept { return store_.get(); }
    const std::shared_ptr<detail::ValueStore>& store_ptr() const noexcept { return store_; }
    Value(std::shared_ptr<detail::ValueStore> s, std::uint32_t off) noexcept
        : store_(std::move(s)), offset_(off) {}

///@}
private:
    template <class T> bool convert_to(T& out, std::string* why) const;
    template <class T> bool convert_from(const T& in, std::string* why);

    std::shared_ptr<detail::ValueStore> store_;
    std::uint32_t offset_ = 0;
};

namespace detail {

struct UnionSlot {
    std::int32_t selector = -1;  ///< union: member index or -1; any: unused
    Value member;                ///< the contained value (null = none)
};

/// The storage of one field, in 16 bytes: a number inline; a string, an array payload or a
/// union's content in a box of its own, made when the field is first written. A slot without
/// a box reads as its empty default ("", an empty array of the field's element type, no
/// selection). Why: a std::variant of the five kinds took 40 bytes a field, and most of a
/// served PV's fields are numbers, structures (which hold nothing) and empty strings; an
/// NTScalar's ten fields now take 160 bytes and no box (issue 13, memory per PV).
///
/// get_if<T>() and get<T>() read like std::variant's; their non-const forms make the box.
class Slot {
public:
    enum class Kind : std::uint8_t { None, Number, String, Array, Union };

    /// A structure's slot: holds nothing.
    Slot() noexcept : box_(nullptr) {}
    Slot(Number n) noexcept : num_(n), kind_(Kind::Number) {}
    explicit Slot(std::string s);
    explicit Slot(SharedArray a);
    explicit Slot(UnionSlot u);
    /// The empty slot of a field of type `t`.
    static Slot for_type(const TypeDesc& t);

    Slot(const Slot& other);
    Slot(Slot&& other) noexcept : kind_(other.kind_), element_(other.element_) {
        if (kind_ == Kind::Number) num_ = other.num_;
        else box_ = std::exchange(other.box_, nullptr);
    }
    Slot& operator=(const Slot& other) {
        // numbers and structure nodes, most of a value's fields, copy here without a call
        if (kind_ == other.kind_ && kind_ == Kind::Number) num_ = other.num_;
        else if (kind_ != other.kind_ || kind_ != Kind::None) copy_boxed(other);
        return *this;
    }
    Slot& operator=(Slot&& other) noexcept {
        if (this != &other) {
            destroy();
            kind_ = other.kind_;
            element_ = other.element_;
            if (kind_ == Kind::Number) num_ = other.num_;
            else box_ = std::exchange(other.box_, nullptr);
        }
        return *this;
    }
    ~Slot() { destroy(); }
    /// Copies `src`, cloning a union's member: values never share a member, so that writing
    /// one copy's member leaves the other alone.
    void copy_deep(const Slot& src);

    Kind kind() const noexcept { return kind_; }
    /// Whether a string, array or union slot has made its box (what a value costs).
    bool has_box() const noexcept { return kind_ != Kind::None && kind_ != Kind::Number && box_ != nullptr; }

    /// The content when the slot holds a T (Number, std::string, SharedArray, UnionSlot),
    /// else null; an empty default when it has no box.
    template <class T> const T* get_if() const noexcept {
        if (kind_ != kind_of<T>()) return nullptr;
        if constexpr (std::is_same_v<T, Number>) return &num_;
        else return box_ ? static_cast<const T*>(box_) : &empty_default<T>();
    }
    /// Same, for writing: makes the box of a string, array or union.
    template <class T> T* get_if() {
        if (kind_ != kind_of<T>()) return nullptr;
        if constexpr (std::is_same_v<T, Number>) return &num_;
        else {
            if (!box_) box_ = new T(empty_default<T>());
            return static_cast<T*>(box_);
        }
    }
    /// The content as a T; throws ValueError when the slot holds another kind.
    template <class T> const T& get() const {
        if (const T* p = get_if<T>()) return *p;
        wrong_kind(kind_of<T>());
    }
    template <class T> T& get() {
        if (T* p = get_if<T>()) return *p;
        wrong_kind(kind_of<T>());
    }

    /// Writes a string slot's text; "" into a slot without a box makes none.
    void set_string(std::string_view text) {
        if (text.empty() && !box_ && kind_ == Kind::String) return;
        get<std::string>().assign(text);
    }
    /// Back to the empty default, keeping the box (and a string's capacity) for reuse.
    void clear() noexcept;

private:
    template <class T> static constexpr Kind kind_of() noexcept {
        if constexpr (std::is_same_v<T, Number>) return Kind::Number;
        else if constexpr (std::is_same_v<T, std::string>) return Kind::String;
        else if constexpr (std::is_same_v<T, SharedArray>) return Kind::Array;
        else if constexpr (std::is_same_v<T, UnionSlot>) return Kind::Union;
        else static_assert(sizeof(T) == 0, "pvwire: a Slot holds Number, std::string, SharedArray or UnionSlot");
    }
    template <class T> const T& empty_default() const noexcept;
    [[noreturn]] void wrong_kind(Kind wanted) const;
    void copy_boxed(const Slot& other);
    void destroy() noexcept {
        if (kind_ != Kind::None && kind_ != Kind::Number) destroy_box();
    }
    void destroy_box() noexcept;

    union {
        Number num_;
        void* box_;  ///< std::string, SharedArray or UnionSlot by kind_; null: the empty default
    };
    Kind kind_ = Kind::None;
    TypeCode element_ = TypeCode::Null;  ///< Array: the element type of the empty default
};
static_assert(sizeof(Slot) == 16);

/// The empty payload of each element type (what an array slot without a box reads as).
const SharedArray& empty_array(TypeCode element) noexcept;

template <class T> const T& Slot::empty_default() const noexcept {
    if constexpr (std::is_same_v<T, SharedArray>) {
        return empty_array(element_);
    } else {
        static const T empty{};
        return empty;
    }
}

struct ValueStore {
    /// The slots of a store: a pointer into its own allocation, const through a const store
    /// (where reading a slot never makes its box).
    class SlotArray {
    public:
        explicit SlotArray(Slot* first) noexcept : first_(first) {}
        Slot& operator[](std::size_t i) noexcept { return first_[i]; }
        const Slot& operator[](std::size_t i) const noexcept { return first_[i]; }
        Slot* data() noexcept { return first_; }
        const Slot* data() const noexcept { return first_; }

    private:
        Slot* first_;
    };

    TypePtr type;              ///< the top-level type
    SlotArray slots;           ///< type->offset_count() slots, one per field offset (see make())
    BitSet marks;              ///< changed marks by offset

    /// A store of type `t`, every field zero / empty, no marks. One allocation holds the
    /// shared count, the store and its slots (a served PV's value is one block, not two).
    static std::shared_ptr<ValueStore> make(TypePtr t);

    /// For make() only (the key is private): `slot_memory` points at where the slots go.
    struct Key {
    private:
        friend struct ValueStore;
        explicit Key() = default;
    };
    ValueStore(Key, TypePtr t, void* const* slot_memory) noexcept;
    ValueStore(const ValueStore&) = delete;
    ValueStore& operator=(const ValueStore&) = delete;
    ~ValueStore();

    /// Back to the state of a new store of the same type (every field zero / empty, no
    /// marks), keeping the storage: string capacity, the boxes of strings and arrays. Drops
    /// array payloads and union members.
    void reset() noexcept;
    /// Completes a partial update: copies from `prev` (a store of the same type) every field
    /// that `changed` does not cover (a structure bit covers its subtree), as assign() would,
    /// without touching the marks.
    void fill_unchanged(const ValueStore& prev, const BitSet& changed);
    const TypeDesc& type_at(std::uint32_t off) const {
        return off == 0 ? *type : *type->flat()[off].type;
    }
};

/// Conversions between the storage kinds and C++ types; defined in impl/value.ipp.
bool number_to(const TypeDesc& t, const Number& n, std::int64_t& out, std::string* why);
bool number_to(const TypeDesc& t, const Number& n, std::uint64_t& out, std::string* why);
bool number_to(const TypeDesc& t, const Number& n, double& out, std::string* why);
bool number_to_string(const TypeDesc& t, const Number& n, std::string& out);
bool number_from(const TypeDesc& t, Number& n, std::int64_t v, std::string* why);
bool number_from(const TypeDesc& t, Number& n, std::uint64_t v, std::string* why);
bool number_from(const TypeDesc& t, Number& n, double v, std::string* why);
bool number_from_string(const TypeDesc& t, Number& n, std::string_view s, std::string* why);
bool parse_number(std::string_view s, double& out);
/// Shortest text that reads back to the same double.
std::string format_double(double d);
std::string describe_field(const Value& v);
void fail_conversion(std::string* why, const Value& v, std::string_view to);
/// Appends " in field '...' (type)" to *why (if given); returns false.
bool add_field(std::string* why, const Value& v);
/// Converts a payload to the element code `to`, or fails.
bool convert_array(const SharedArray& in, TypeCode to, SharedArray& out, std::string* why);

template <class T> constexpr bool is_int_v =
    std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>;

}  // namespace detail

// ---- conversion templates ------------------------------------------------------------------

template <class T> bool Value::convert_to(T& out, std::string* why) const {
    if (!store_) {
        if (why) *why = "pvwire: read from a null Value";
        return false;
    }
    const TypeDesc& t = store_->type_at(offset_);
    const detail::Slot& slot = store_->slots[offset_];
    if constexpr (std::is_same_v<T, Value>) {
        out = *this;
        return true;
    } else if constexpr (std::is_same_v<T, SharedArray>) {
        if (auto* a = slot.get_if<SharedArray>()) {
            out = *a;
            return true;
        }
        detail::fail_conversion(why, *this, "array");
        return false;
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (auto* s = slot.get_if<std::string>()) {
            out = *s;
            return true;
        }
        if (auto* n = slot.get_if<detail::Number>()) return detail::number_to_string(t, *n, out);
        if (auto* u = slot.get_if<detail::UnionSlot>()) {
            if (u->member) return u->member.convert_to(out, why);
        }
        if (t.code() == TypeCode::Struct) {  // enum_t-like: choices[index]
            auto idx = field("index"), ch = field("choices");
            if (idx && ch && ch.code() == TypeCode::StringA) {
                auto i = idx.try_as<std::int64_t>();
                auto arr = ch.array().span<std::string>();
                if (i && *i >= 0 && std::size_t(*i) < arr.size()) {
                    out = arr[std::size_t(*i)];
                    return true;
                }
            }
            if (auto v = field("value")) return v.convert_to(out, why);
        }
        detail::fail_conversion(why, *this, "string");
        return false;
    } else if constexpr (std::is_arithmetic_v<T>) {
        if (auto* n = slot.get_if<detail::Number>()) {
            if constexpr (std::is_same_v<T, bool>) {
                double d;
                if (!detail::number_to(t, *n, d, why)) return detail::add_field(why, *this);
                out = d != 0;
                return true;
            } else if constexpr (std::is_floating_point_v<T>) {
                double d;
                if (!detail::number_to(t, *n, d, why)) return detail::add_field(why, *this);
                out = T(d);
                return true;
            } else if constexpr (std::is_signed_v<T>) {
                std::int64_t i;
                if (!detail::number_to(t, *n, i, why)) return detail::add_field(why, *this);
                if (i < std::int64_t(std::numeric_limits<T>::min()) ||
                    i > std::int64_t(std::numeric_limits<T>::max())) {
                    detail::fail_conversion(why, *this, "a narrower integer (out of range)");
                    return false;
                }
                out = T(i);
                return true;
            } else {
                std::uint64_t u;
                if (!detail::number_to(t, *n, u, why)) return detail::add_field(why, *this);
                if (u > std::uint64_t(std::numeric_limits<T>::max())) {
                    detail::fail_conversion(why, *this, "a narrower integer (out of range)");
                    return false;
                }
                out = T(u);
                return true;
            }
        }
        if (auto* s = slot.get_if<std::string>()) {
            if constexpr (std::is_same_v<T, bool>) {
                if (*s == "true" || *s == "1") { out = true; return true; }
                if (*s == "false" || *s == "0") { out = false; return true; }
            } else {
                if constexpr (std::is_integral_v<T>) {  // exact first: 64-bit values keep every digit
                    std::string_view sv(*s);
                    if (!sv.empty() && sv.front() == '+') sv.remove_prefix(1);
                    T iv{};
                    const auto r = std::from_chars(sv.data(), sv.data() + sv.size(), iv);
                    if (r.ec == std::errc() && r.ptr == sv.data() + sv.size()) {
                        out = iv;
                        return true;
                    }
                }
                double d;
                if (detail::parse_number(*s, d)) {
                    if constexpr (std::is_integral_v<T>) {
                        // max + 1 is exact in double; double(max) itself may round up to it
                        if (d == std::floor(d) && d >= double(std::numeric_limits<T>::min()) &&
                            d < double(std::numeric_limits<T>::max() / 2 + 1) * 2.0) {
                            out = T(d);
                            return true;
                        }
                    } else {
                        out = T(d);
                        return true;
                    }
                }
            }
            detail::fail_conversion(why, *this, "a number (string \"" + *s + "\" is not one)");
            return false;
        }
        if (auto* u = slot.get_if<detail::UnionSlot>()) {
            if (u->member) return u->member.convert_to(out, why);
        }
        if (t.code() == TypeCode::Struct) {  // NT-style: the "value" (or enum "index") field
            if (auto v = field("value")) return v.convert_to(out, why);
            if (auto v = field("index")) return v.convert_to(out, why);
        }
        detail::fail_conversion(why, *this, "a number");
        return false;
    } else if constexpr (requires { typename T::value_type; }) {  // std::vector<E>
        using E = typename T::value_type;
        if (t.code() == TypeCode::Struct) {  // NTScalarArray-like: its "value" field
            if (auto v = field("value")) return v.convert_to(out, why);
        }
        SharedArray a;
        if (!convert_to(a, why)) return false;
        SharedArray c;
        if (!detail::convert_array(a, detail::code_of<E>(), c, why)) return detail::add_field(why, *this);
        auto sp = c.template span<E>();
        out.assign(sp.begin(), sp.end());
        return true;
    } else {
        static_assert(sizeof(T) == 0, "pvwire: unsupported type for Value::as");
    }
}

template <class T> bool Value::convert_from(const T& in, std::string* why) {
    if (!store_) {
        if (why) *why = "pvwire: write to a null Value";
        return false;
    }
    const TypeDesc& t = store_->type_at(offset_);
    detail::Slot& slot = store_->slots[offset_];
    bool ok = false;
    if constexpr (std::is_same_v<T, SharedArray>) {
        set_array(in);
        return true;
    } else if constexpr (std::is_same_v<T, Value>) {
        assign(in);
        return true;
    } else if constexpr (std::is_convertible_v<const T&, std::string_view> &&
                         !std::is_arithmetic_v<T>) {
        std::string_view sv(in);
        if (slot.kind() == detail::Slot::Kind::String) {
            slot.set_string(sv);
            ok = true;
        } else if (auto* n = slot.get_if<detail::Number>()) {
            if (t.code() == TypeCode::Bool && (sv == "true" || sv == "false")) {
                n->u = sv == "true";
                ok = true;
            } else {
                ok = detail::number_from_string(t, *n, sv, why);
                if (!ok) return detail::add_field(why, *this);
            }
        } else if (t.code() == TypeCode::Any) {
            Value v(TypeDesc::scalar(TypeCode::String));
            v.set(sv);
            set_contained(v);
            return true;
        } else if (t.code() == TypeCode::Struct) {
            // enum_t-like: choose by choice name
            auto idx = field("index"), ch = field("choices");
            if (idx && ch && ch.code() == TypeCode::StringA) {
                auto arr = ch.array().span<std::string>();
                for (std::size_t i = 0; i < arr.size(); ++i)
                    if (arr[i] == sv) {
                        idx.set(std::int64_t(i));
                        return true;
                    }
                if (why) *why = "pvwire: \"" + std::string(sv) + "\" is not a choice of " + detail::describe_field(*this);
                return false;
            }
            if (auto v = field("value")) return v.convert_from(in, why);
        }
    } else if constexpr (std::is_arithmetic_v<T>) {
        if (auto* n = slot.get_if<detail::Number>()) {
            if constexpr (std::is_same_v<T, bool>) ok = detail::number_from(t, *n, std::int64_t(in), why);
            else if constexpr (std::is_floating_point_v<T>) ok = detail::number_from(t, *n, double(in), why);
            else if constexpr (std::is_signed_v<T>) ok = detail::number_from(t, *n, std::int64_t(in), why);
            else ok = detail::number_from(t, *n, std::uint64_t(in), why);
            if (!ok) return detail::add_field(why, *this);
        } else if (auto* s = slot.get_if<std::string>()) {
            if constexpr (std::is_same_v<T, bool>) *s = in ? "true" : "false";
            else if constexpr (std::is_floating_point_v<T>) *s = detail::format_double(double(in));
            else if constexpr (std::is_signed_v<T>) *s = std::to_string(std::int64_t(in));
            else *s = std::to_string(std::uint64_t(in));
            ok = true;
        } else if (t.code() == TypeCode::Any) {
            Value v(TypeDesc::scalar(detail::code_of<std::conditional_t<std::is_same_v<T, bool>, bool,
                    std::conditional_t<std::is_floating_point_v<T>, double,
                    std::conditional_t<std::is_signed_v<T>, std::int64_t, std::uint64_t>>>>()));
            v.set(in);
            set_contained(v);
            return true;
        } else if (t.code() == TypeCode::Struct) {
            if (auto v = field("value")) {
                if (v.code() == TypeCode::Struct) {
                    if (auto i = v.field("index")) return i.convert_from(in, why);
                }
                return v.convert_from(in, why);
            }
            if (auto v = field("index")) return v.convert_from(in, why);
        }
    } else if constexpr (requires { typename T::value_type; }) {
        using E = typename T::value_type;
        if (slot.get_if<SharedArray>()) {
            SharedArray c;
            if (!detail::convert_array(SharedArray::from(std::vector<E>(in.begin(), in.end())),
                                       type_code::element_of(t.code()), c, why))
                return detail::add_field(why, *this);
            set_array(std::move(c));
            return true;
        } else if (t.code() == TypeCode::Any) {
            Value v(TypeDesc::array(detail::code_of<E>()));
            v.set_array(SharedArray::from(std::vector<E>(in.begin(), in.end())));
            set_contained(v);
            return true;
        } else if (t.code() == TypeCode::Struct) {
            if (auto v = field("value")) return v.convert_from(in, why);
        }
    } else {
        static_assert(sizeof(T) == 0, "pvwire: unsupported type for Value::set");
    }
    if (!ok) {
        detail::fail_conversion(why, *this, "from the given C++ type");
        return false;
    }
    mark();
    return true;
}

}  // namespace pvwire

#ifdef PVWIRE_HEADER_ONLY
#include <pvwire/data/impl/value.ipp>
#endif

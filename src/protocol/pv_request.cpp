// pvRequest text parsing, text output, field masks and options (see pv_request.hpp).
#include <pvwire/protocol/pv_request.hpp>

#include <algorithm>
#include <cstdio>
#include <map>

namespace pvwire::protocol {

namespace {

// The deepest structure nesting a request may produce (the top structure counts as 1); PVXS
// refuses type descriptions nesting deeper than this.
constexpr int kMaxDepth = 20;

constexpr std::string_view kOptions = "_options";

bool is_name_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
bool is_blank(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_value_char(char c) noexcept {
    if (is_blank(c)) return false;
    switch (c) {
    case ',': case '[': case ']': case '(': case ')': case '{': case '}': case '=':
        return false;
    default:
        return c != '\0';
    }
}

// One selected field of the request being built, with its children and its options.
struct Node {
    std::string name;
    std::vector<Node> kids;                    // in order of first mention
    std::map<std::string, std::string> opts;   // sorted, last value wins (as PVXS)

    Node& child(std::string_view n) {
        for (auto& k : kids)
            if (k.name == n) return k;
        kids.push_back(Node{std::string(n), {}, {}});
        return kids.back();
    }
};

class Parser {
public:
    explicit Parser(std::string_view s) : s_(s) {}

    bool parse() {
        while (true) {
            skip_blanks();
            if (at_end()) return true;
            const char c = s_[pos_];
            if (c == ',') {  // pvDataCPP bare lists: "value,alarm"
                ++pos_;
                continue;
            }
            if (is_name_char(c)) {
                const std::string_view word = peek_name();
                if (word == "field" || word == "getField" || word == "putField") {
                    const std::size_t start = pos_;
                    pos_ += word.size();
                    Node& target = word == "field" ? field_ : word == "getField" ? get_ : put_;
                    (word == "field" ? has_field_ : word == "getField" ? has_get_ : has_put_) = true;
                    skip_blanks();
                    if (at_end() || s_[pos_] != '(')
                        return fail_here("expected '(' after '" + std::string(word) + "'");
                    ++pos_;
                    if (!parse_list(target, ')', 2)) return false;
                    if (at_end())
                        return fail_here("missing ')' to close '" + std::string(word) + "(' from column " +
                                         std::to_string(start + 1));
                    ++pos_;  // ')'
                    continue;
                }
                if (word == "record") {
                    const std::size_t start = pos_;
                    pos_ += word.size();
                    skip_blanks();
                    if (at_end() || s_[pos_] != '[') return fail_here("expected '[' after 'record'");
                    if (!parse_options(record_, start, "record[")) return false;
                    continue;
                }
            }
            if (is_name_char(c) || c == '.') {  // shorthand for field(name)
                has_field_ = true;
                if (!parse_item(field_, 2)) return false;
                continue;
            }
            return fail_unexpected();
        }
    }

    Value build(std::string* error) const {
        try {
            std::vector<Member> top;
            if (has_field_ || (!has_get_ && !has_put_)) top.push_back({"field", type_of(field_)});
            if (has_get_) top.push_back({"getField", type_of(get_)});
            if (has_put_) top.push_back({"putField", type_of(put_)});
            if (!record_.empty()) {
                std::vector<Member> opts;
                for (const auto& [k, v] : record_) opts.push_back({k, TypeDesc::scalar(TypeCode::String)});
                top.push_back({"record", TypeDesc::structure(
                                             "", {{std::string(kOptions), TypeDesc::structure("", std::move(opts))}})});
            }
            Value v(TypeDesc::structure("", std::move(top)));
            if (has_field_ || (!has_get_ && !has_put_)) fill(v["field"], field_);
            if (has_get_) fill(v["getField"], get_);
            if (has_put_) fill(v["putField"], put_);
            if (!record_.empty()) {
                Value o = v["record._options"];
                for (const auto& [k, val] : record_) o[k].set(val);
            }
            v.unmark();
            return v;
        } catch (const std::exception& e) {
            if (error) *error = std::string("pvRequest: cannot build the structure: ") + e.what();
        } catch (...) {
            if (error) *error = "pvRequest: cannot build the structure";
        }
        return Value();
    }

    const std::string& error() const noexcept { return err_; }

private:
    static TypePtr type_of(const Node& n) {
        std::vector<Member> members;
        if (!n.opts.empty()) {
            std::vector<Member> opts;
            for (const auto& [k, v] : n.opts) opts.push_back({k, TypeDesc::scalar(TypeCode::String)});
            members.push_back({std::string(kOptions), TypeDesc::structure("", std::move(opts))});
        }
        for (const auto& k : n.kids) members.push_back({k.name, type_of(k)});
        return TypeDesc::structure("", std::move(members));
    }
    static void fill(Value v, const Node& n) {
        if (!n.opts.empty()) {
            Value o = v[kOptions];
            for (const auto& [k, val] : n.opts) o[k].set(val);
        }
        for (const auto& k : n.kids) fill(v[k.name], k);
    }

    bool at_end() const noexcept { return pos_ >= s_.size(); }
    void skip_blanks() noexcept {
        while (!at_end() && is_blank(s_[pos_])) ++pos_;
    }
    std::string_view peek_name() const noexcept {
        std::size_t e = pos_;
        while (e < s_.size() && is_name_char(s_[e])) ++e;
        return s_.substr(pos_, e - pos_);
    }
    std::string_view take_name() noexcept {
        auto n = peek_name();
        pos_ += n.size();
        return n;
    }

    std::string column() const { return " at column " + std::to_string(pos_ + 1); }
    bool fail_here(const std::string& what) {
        if (err_.empty()) err_ = what + (at_end() ? " at end of input (column " + std::to_string(pos_ + 1) + ")" : column());
        return false;
    }
    bool fail_unexpected() {
        if (at_end()) return fail_here("unexpected end of input");
        const unsigned char c = static_cast<unsigned char>(s_[pos_]);
        char buf[16];
        if (c >= 0x20 && c < 0x7f) std::snprintf(buf, sizeof buf, "'%c'", c);
        else std::snprintf(buf, sizeof buf, "byte 0x%02x", unsigned(c));
        return fail_here(std::string("unexpected ") + buf);
    }

    // Items separated by commas or blanks up to (not consuming) `close`, or the end of input
    // (the caller reports the missing bracket). `depth` is the nesting level of `parent`.
    bool parse_list(Node& parent, char close, int depth) {
        while (true) {
            skip_blanks();
            if (at_end()) return true;
            const char c = s_[pos_];
            if (c == close) return true;
            if (c == ',') {
                ++pos_;
                continue;
            }
            if (is_name_char(c) || c == '.') {
                if (!parse_item(parent, depth)) return false;
                continue;
            }
            return fail_unexpected();
        }
    }

    // A dotted path, each component optionally with [options], optionally followed by a
    // pvDataCPP brace list: alarm.severity, value[opt=x], alarm[a=1].status, alarm{severity}.
    bool parse_item(Node& parent, int depth) {
        Node* cur = &parent;
        bool any = false;
        while (true) {
            while (!at_end() && s_[pos_] == '.') ++pos_;  // PVXS skips empty components
            if (at_end() || !is_name_char(s_[pos_])) break;
            const std::size_t at = pos_;
            const std::string_view name = take_name();
            if (name == kOptions) {
                pos_ = at;
                return fail_here("'_options' is reserved for options and cannot be selected");
            }
            if (++depth > kMaxDepth) {
                pos_ = at;
                return fail_here("request nests deeper than " + std::to_string(kMaxDepth) + " levels");
            }
            cur = &cur->child(name);
            any = true;
            if (!at_end() && s_[pos_] == '[') {
                if (depth + 1 > kMaxDepth) return fail_here("request nests deeper than " + std::to_string(kMaxDepth) + " levels");
                if (!parse_options(cur->opts, pos_, "[")) return false;
            }
            if (at_end() || s_[pos_] != '.') break;
        }
        const std::size_t before = pos_;
        skip_blanks();
        if (!at_end() && s_[pos_] == '{') {
            if (!any) return fail_here("expected a field name before '{'");
            const std::size_t open = pos_;
            ++pos_;
            if (!parse_list(*cur, '}', depth)) return false;
            if (at_end())
                return fail_here("missing '}' to close '{' from column " + std::to_string(open + 1));
            ++pos_;
        } else {
            pos_ = before;
        }
        return true;
    }

    // '[' key=value, ... ']' at pos_; `start` and `what` name the construct in errors.
    bool parse_options(std::map<std::string, std::string>& out, std::size_t start, const char* what) {
        ++pos_;  // '['
        while (true) {
            skip_blanks();
            if (at_end())
                return fail_here(std::string("missing ']' to close '") + what + "' from column " +
                                 std::to_string(start + 1));
            const char c = s_[pos_];
            if (c == ']') {
                ++pos_;
                return true;
            }
            if (c == ',') {
                ++pos_;
                continue;
            }
            if (!is_name_char(c)) return fail_unexpected();
            const std::string key(take_name());
            skip_blanks();
            if (at_end() || s_[pos_] != '=') return fail_here("expected '=' after option '" + key + "'");
            ++pos_;
            skip_blanks();
            const std::size_t vstart = pos_;
            while (!at_end() && is_value_char(s_[pos_])) ++pos_;
            if (pos_ == vstart) return fail_here("expected a value for option '" + key + "'");
            out[key] = std::string(s_.substr(vstart, pos_ - vstart));
        }
    }

    std::string_view s_;
    std::size_t pos_ = 0;
    std::string err_;
    Node field_{"field", {}, {}}, get_{"getField", {}, {}}, put_{"putField", {}, {}};
    bool has_field_ = false, has_get_ = false, has_put_ = false;
    std::map<std::string, std::string> record_;
};

// ---- text output ---------------------------------------------------------------------------

std::string value_text(const Value& v) {
    try {
        if (auto s = v.try_as<std::string>()) return *s;
    } catch (...) {
    }
    return "?";
}

void options_text(const Value& opts, std::string& out) {
    bool first = true;
    for (std::size_t i = 0; i < opts.member_count(); ++i) {
        if (!first) out += ',';
        first = false;
        out += opts.member_name(i);
        out += '=';
        out += value_text(opts.member(i));
    }
}

bool is_struct(const Value& v) { return v.valid() && v.code() == TypeCode::Struct; }

// Appends the dotted paths below `node` (one selected field named by `prefix`).
void paths_text(const Value& node, const std::string& prefix, std::vector<std::string>& out) {
    bool has_kids = false;
    bool opts_shown = false;
    std::string head = prefix;
    if (Value o = node.field(kOptions); is_struct(o) && o.member_count()) {
        head += '[';
        options_text(o, head);
        head += ']';
    }
    for (std::size_t i = 0; i < node.member_count(); ++i) {
        if (node.member_name(i) == kOptions) continue;
        Value k = node.member(i);
        if (!is_struct(k)) continue;
        has_kids = true;
        // show the options once, on the first path through this node
        paths_text(k, (opts_shown ? prefix : head) + "." + std::string(node.member_name(i)), out);
        opts_shown = true;
    }
    if (!has_kids) out.push_back(head);
}

std::string list_text(const Value& sel) {
    std::vector<std::string> items;
    for (std::size_t i = 0; i < sel.member_count(); ++i) {
        if (sel.member_name(i) == kOptions) continue;
        Value k = sel.member(i);
        if (is_struct(k)) paths_text(k, std::string(sel.member_name(i)), items);
    }
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += ',';
        out += items[i];
    }
    return out;
}

// ---- masks ---------------------------------------------------------------------------------

bool has_selecting_kids(const TypeDesc& req) {
    for (std::size_t i = 0; i < req.member_count(); ++i)
        if (req.member_name(i) != kOptions) return true;
    return false;
}

void select_paths(const TypeDesc& req, const TypeDesc& type, std::uint32_t base, BitSet& bits, bool& found) {
    for (std::size_t i = 0; i < req.member_count(); ++i) {
        const TypeDesc& rt = *req.member_type(i);
        if (rt.code() != TypeCode::Struct || req.member_name(i) == kOptions) continue;
        const auto idx = type.member_index(req.member_name(i));
        if (!idx) continue;  // a field that does not exist: ignored
        const std::uint32_t off = base + type.member_offset(*idx);
        const TypeDesc& ct = *type.member_type(*idx);
        bits.set(off);
        found = true;
        if (ct.code() != TypeCode::Struct) continue;
        if (!has_selecting_kids(rt)) bits.set_range(off, off + ct.offset_count());
        else select_paths(rt, ct, off, bits, found);
    }
}

}  // namespace

Value parse_pv_request(std::string_view text, std::string* error) {
    try {
        Parser p(text);
        if (!p.parse()) {
            if (error) *error = p.error();
            return Value();
        }
        return p.build(error);
    } catch (const std::exception& e) {
        if (error) *error = std::string("pvRequest: ") + e.what();
    } catch (...) {
        if (error) *error = "pvRequest: internal error";
    }
    return Value();
}

std::string pv_request_text(const Value& pv_request) {
    try {
        if (!is_struct(pv_request)) return {};
        std::string out;
        for (std::size_t i = 0; i < pv_request.member_count(); ++i) {
            const std::string name(pv_request.member_name(i));
            Value m = pv_request.member(i);
            if (name == "record" && is_struct(m)) {
                Value o = m.field(kOptions);
                out += "record[";
                if (is_struct(o)) options_text(o, out);
                out += ']';
            } else if (is_struct(m)) {
                out += name + "(" + list_text(m) + ")";
            } else {
                out += name + "=" + value_text(m);
            }
        }
        return out;
    } catch (...) {
        return {};
    }
}

std::optional<FieldMask> request_field_mask(const TypeDesc& type, const Value& pv_request,
                                            std::string* error, std::string_view sub) {
    FieldMask fm;
    const std::uint32_t n = type.offset_count();
    fm.selected.set(0);
    auto everything = [&]() {
        fm.selected.set_range(0, n);
        fm.all = true;
        return fm;
    };
    try {
        if (type.code() != TypeCode::Struct || !is_struct(pv_request)) return everything();
        const auto idx = pv_request.type().member_index(sub);
        if (!idx) return everything();
        const TypeDesc& req = *pv_request.type().member_type(*idx);
        if (req.code() != TypeCode::Struct) {
            if (error) *error = "pvRequest must select at least one field ('" + std::string(sub) + "' is not a structure)";
            return std::nullopt;
        }
        if (!has_selecting_kids(req)) return everything();
        bool found = false;
        select_paths(req, type, 0, fm.selected, found);
        if (!found) {
            if (error) *error = "pvRequest must select at least one field";
            return std::nullopt;
        }
        if (fm.selected.next(1) == BitSet::npos) return everything();
        fm.all = fm.selected.count() == n;
        return fm;
    } catch (const std::exception& e) {
        if (error) *error = std::string("pvRequest: ") + e.what();
    } catch (...) {
        if (error) *error = "pvRequest: internal error";
    }
    return std::nullopt;
}

std::optional<BitSet> request_mask(const TypeDesc& type, const Value& pv_request, std::string* error,
                                   std::string_view sub) {
    auto fm = request_field_mask(type, pv_request, error, sub);
    if (!fm) return std::nullopt;
    return std::move(fm->selected);
}

BitSet apply_mask(const BitSet& changed, const BitSet& mask, const TypeDesc& type) {
    BitSet out;
    if (changed.empty()) return out;  // the usual overrun set of an update: nothing to scan
    const std::uint32_t n = type.offset_count();
    const auto& flat = type.flat();
    auto end_of = [&](std::uint32_t o) -> std::uint32_t {
        return o == 0 || flat.empty() ? n : flat[o].end;
    };
    // The usual request selects everything: then every field is fully masked, and the
    // prefix counts below (a heap allocation per update) are not needed.
    bool selects_all = true;
    for (std::uint32_t o = 0; o < n && selects_all; o += 64) {
        const std::uint32_t bits = std::min<std::uint32_t>(64, n - o);
        const std::uint64_t want = bits == 64 ? ~std::uint64_t(0) : (std::uint64_t(1) << bits) - 1;
        const auto& w = mask.words();
        selects_all = o / 64 < w.size() && (w[o / 64] & want) == want;
    }
    // masked[o] = number of mask bits in [0, o)
    std::vector<std::uint32_t> masked;
    if (!selects_all) {
        masked.assign(std::size_t(n) + 1, 0);
        for (std::uint32_t o = 0; o < n; ++o) masked[o + 1] = masked[o] + (mask.test(o) ? 1u : 0u);
    }
    auto fully = [&](std::uint32_t o) {
        if (selects_all) return true;
        const std::uint32_t e = end_of(o);
        return masked[e] - masked[o] == e - o;
    };
    std::uint32_t covered = 0;  // offsets below this were dealt with by an earlier bit
    for (std::size_t b = changed.next(0); b != BitSet::npos && b < n; b = changed.next(b + 1)) {
        if (b < covered) continue;
        const std::uint32_t e = end_of(std::uint32_t(b));
        for (std::uint32_t p = std::uint32_t(b); p < e;) {
            if (fully(p)) {
                out.set(p);
                p = end_of(p);
            } else {
                ++p;  // into a partly masked structure, or past an unmasked leaf
            }
        }
        covered = e;
    }
    return out;
}

RequestOptions request_options(const Value& pv_request, std::vector<std::string>* warnings) {
    RequestOptions ro;
    auto warn = [&](const std::string& name, const Value& v, const std::string& why) {
        if (warnings)
            warnings->push_back("record._options." + name + "=\"" + value_text(v) + "\" ignored: " + why);
    };
    try {
        if (!is_struct(pv_request)) return ro;
        Value opts = pv_request.field("record");
        if (!is_struct(opts)) return ro;
        opts = opts.field(kOptions);
        if (!is_struct(opts)) return ro;
        Value ack;
        for (std::size_t i = 0; i < opts.member_count(); ++i) {
            const std::string name(opts.member_name(i));
            Value v = opts.member(i);
            if (name == "queueSize") {
                auto q = v.try_as<std::uint32_t>();
                if (!q) warn(name, v, "not a number");
                else if (*q < 2) warn(name, v, "must be at least 2");
                else ro.queue_size = *q;
            } else if (name == "pipeline") {
                if (auto b = v.try_as<bool>()) ro.pipeline = *b;
                else warn(name, v, "not a boolean");
            } else if (name == "block") {
                if (auto b = v.try_as<bool>()) ro.block = *b;
                else warn(name, v, "not a boolean");
            } else if (name == "process") {
                if (auto s = v.try_as<std::string>()) ro.process = *s;
                else warn(name, v, "not a scalar");
            } else if (name == "ackAny") {
                ack = v;
            } else {
                if (auto s = v.try_as<std::string>()) ro.others.emplace_back(name, *s);
                else warn(name, v, "not a scalar");
            }
        }
        if (ack) {
            if (auto c = ack.try_as<std::uint32_t>()) {
                if (*c == 0) warn("ackAny", ack, "must be at least 1");
                else ro.ack_any = *c;
            } else if (auto s = ack.try_as<std::string>(); s && s->size() > 1 && s->back() == '%') {
                double pct = 0;
                if (!detail::parse_number(std::string_view(*s).substr(0, s->size() - 1), pct) ||
                    !(pct > 0.0 && pct <= 100.0)) {
                    warn("ackAny", ack, "percentage must be more than 0% and at most 100%");
                } else {
                    ro.ack_any_percent = pct;
                    const double q = ro.queue_size.value_or(4);
                    ro.ack_any = std::max<std::uint32_t>(1, std::uint32_t(pct / 100.0 * q));
                }
            } else {
                warn("ackAny", ack, "neither a count nor a percentage");
            }
        }
    } catch (const std::exception& e) {
        if (warnings) warnings->push_back(std::string("pvRequest options: ") + e.what());
    } catch (...) {
        if (warnings) warnings->push_back("pvRequest options: internal error");
    }
    return ro;
}

}  // namespace pvwire::protocol

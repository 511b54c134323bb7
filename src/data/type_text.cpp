// The compact type notation: see type_text.hpp and docs/pv-file.md ("Types by schema").
// A tokenizer with line:column positions, then one of two readers over the tokens: the braced
// form (PVXS's) or, when the text has no '{', the indented form (pvData's dump).
#include <pvwire/data/type_text.hpp>

#include <pvwire/data/value_format.hpp>

#include <fmt/format.h>

#include <charconv>
#include <map>
#include <optional>
#include <vector>

namespace pvwire {

namespace {

using Limits = TypeTextLimits;

struct Token {
    enum Kind { Word, Quoted, Open, Close, End } kind;
    std::string text;
    std::size_t line, column;
    bool starts_line;  // the first token of its line (the indented form reads indentation from it)
};

[[noreturn]] void fail_at(std::size_t line, std::size_t column, std::string_view why) {
    throw SchemaError(fmt::format("type text: {}:{}: {}", line, column, why));
}
[[noreturn]] void fail_at(const Token& t, std::string_view why) { fail_at(t.line, t.column, why); }
// A refusal of the TypeDesc builders, without their "pvwire: " prefix.
[[noreturn]] void fail_at(const Token& t, const std::invalid_argument& e) {
    std::string_view why = e.what();
    if (why.starts_with("pvwire: ")) why.remove_prefix(8);
    fail_at(t, why);
}

bool is_word_char(char c) {
    return !(c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '{' || c == '}' || c == '"' || c == '=');
}

class Tokenizer {
public:
    explicit Tokenizer(std::string_view text) : text_(text) {}

    std::vector<Token> run() {
        std::vector<Token> out;
        bool line_start = true;
        while (at_ < text_.size()) {
            const char c = text_[at_];
            if (c == '\n') {
                advance();
                line_start = true;
                continue;
            }
            if (c == ' ' || c == '\t' || c == '\r') {
                advance();
                continue;
            }
            if (c == '=') {
                skip_value();
                continue;
            }
            out.push_back(next_token(line_start));
            line_start = false;
        }
        out.push_back({Token::End, {}, line_, column_, true});
        return out;
    }

private:
    void advance() {
        if (text_[at_++] == '\n') {
            ++line_;
            column_ = 1;
        } else {
            ++column_;
        }
    }

    Token next_token(bool line_start) {
        Token t{Token::Word, {}, line_, column_, line_start};
        const char c = text_[at_];
        if (c == '{' || c == '}') {
            t.kind = c == '{' ? Token::Open : Token::Close;
            advance();
        } else if (c == '"') {
            t.kind = Token::Quoted;
            t.text = quoted();
        } else {
            while (at_ < text_.size() && is_word_char(text_[at_])) {
                t.text += text_[at_];
                advance();
            }
        }
        return t;
    }

    // "..." with \" \\ \n \t escapes (PVXS escapes ids this way).
    std::string quoted() {
        const std::size_t line = line_, column = column_;
        std::string s;
        advance();
        while (at_ < text_.size() && text_[at_] != '"' && text_[at_] != '\n') {
            char c = text_[at_];
            if (c == '\\' && at_ + 1 < text_.size()) {
                advance();
                c = text_[at_];
                c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
            }
            s += c;
            advance();
        }
        if (at_ >= text_.size() || text_[at_] != '"') fail_at(line, column, "unterminated quoted text");
        advance();
        return s;
    }

    // A value as pvxinfo prints it after the type ("= 0", "= {2}[1, 2]", "= \"text\""):
    // skipped to the end of the line, or further while its brackets are open.
    void skip_value() {
        int brackets = 0;
        bool in_quote = false;
        while (at_ < text_.size()) {
            const char c = text_[at_];
            if (c == '\n' && brackets <= 0 && !in_quote) return;
            if (in_quote && c == '\\' && at_ + 1 < text_.size()) advance();
            else if (c == '"') in_quote = !in_quote;
            else if (!in_quote && c == '[') ++brackets;
            else if (!in_quote && c == ']') --brackets;
            advance();
        }
    }

    std::string_view text_;
    std::size_t at_ = 0, line_ = 1, column_ = 1;
};

// ---- type words: "double", "int32_t[]", "uint8[<16]", "string(8)", "structure[]" ----------

const std::map<std::string_view, TypeCode>& type_names() {
    static const std::map<std::string_view, TypeCode> names = {
        {"bool", TypeCode::Bool},       {"boolean", TypeCode::Bool},     {"int8", TypeCode::Int8},
        {"int8_t", TypeCode::Int8},     {"byte", TypeCode::Int8},        {"int16", TypeCode::Int16},
        {"int16_t", TypeCode::Int16},   {"short", TypeCode::Int16},      {"int32", TypeCode::Int32},
        {"int32_t", TypeCode::Int32},   {"int", TypeCode::Int32},        {"int64", TypeCode::Int64},
        {"int64_t", TypeCode::Int64},   {"long", TypeCode::Int64},       {"uint8", TypeCode::UInt8},
        {"uint8_t", TypeCode::UInt8},   {"ubyte", TypeCode::UInt8},      {"uint16", TypeCode::UInt16},
        {"uint16_t", TypeCode::UInt16}, {"ushort", TypeCode::UInt16},    {"uint32", TypeCode::UInt32},
        {"uint32_t", TypeCode::UInt32}, {"uint", TypeCode::UInt32},      {"uint64", TypeCode::UInt64},
        {"uint64_t", TypeCode::UInt64}, {"ulong", TypeCode::UInt64},     {"float", TypeCode::Float32},
        {"float32", TypeCode::Float32}, {"double", TypeCode::Float64},   {"float64", TypeCode::Float64},
        {"string", TypeCode::String},   {"struct", TypeCode::Struct},    {"structure", TypeCode::Struct},
        {"union", TypeCode::Union},     {"any", TypeCode::Any},
    };
    return names;
}

// What a type word says: the element, how it is arrayed, and the bound.
struct TypeWord {
    TypeCode element = TypeCode::Null;
    ArrayKind kind = ArrayKind::Scalar;
    std::uint32_t bound = 0;
    bool bounded_string = false;

    bool compound() const { return element == TypeCode::Struct || element == TypeCode::Union; }
};

std::optional<std::uint32_t> parse_bound(std::string_view digits) {
    std::uint32_t n = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) return std::nullopt;
    return n;
}

// nullopt: not a type name at all; throws for a type name with a bad suffix.
std::optional<TypeWord> parse_type_word(const Token& t) {
    std::string_view w = t.text;
    const std::size_t cut = std::min(w.find('['), w.find('('));
    const auto found = type_names().find(w.substr(0, cut));
    if (found == type_names().end()) return std::nullopt;
    TypeWord tw;
    tw.element = found->second;
    if (cut == std::string_view::npos) return tw;
    const std::string_view suffix = w.substr(cut);
    std::optional<std::uint32_t> bound;
    if (suffix == "[]") {
        tw.kind = ArrayKind::Variable;
    } else if (suffix.starts_with("[<") && suffix.ends_with("]")) {
        tw.kind = ArrayKind::Bounded;
        bound = parse_bound(suffix.substr(2, suffix.size() - 3));
    } else if (suffix.starts_with("[") && suffix.ends_with("]")) {
        tw.kind = ArrayKind::Fixed;
        bound = parse_bound(suffix.substr(1, suffix.size() - 2));
    } else if (suffix.starts_with("(") && suffix.ends_with(")") && tw.element == TypeCode::String) {
        tw.bounded_string = true;
        bound = parse_bound(suffix.substr(1, suffix.size() - 2));
    } else {
        fail_at(t, fmt::format("\"{}\": the suffix \"{}\" is not [], [<N], [N] or (N) for a string", w, suffix));
    }
    if (tw.kind != ArrayKind::Variable) {
        if (!bound || *bound == 0 || *bound > Limits::max_bound)
            fail_at(t, fmt::format("\"{}\": the bound must be a number 1..{}", w, Limits::max_bound));
        tw.bound = *bound;
    }
    if ((tw.compound() || tw.element == TypeCode::Any) && tw.kind != ArrayKind::Scalar &&
        tw.kind != ArrayKind::Variable)
        fail_at(t, fmt::format("\"{}\": arrays of structures, unions and any have no bound", w));
    return tw;
}

// The type of a word that needs no members (a scalar, an array of scalars, any, any[]).
TypePtr leaf_type(const TypeWord& w, const Token& at) {
    try {
        if (w.bounded_string) return TypeDesc::bounded_string(w.bound);
        switch (w.kind) {
        case ArrayKind::Variable: return TypeDesc::array(w.element);
        case ArrayKind::Bounded: return TypeDesc::bounded_array(w.element, w.bound);
        case ArrayKind::Fixed: return TypeDesc::fixed_array(w.element, w.bound);
        default: return TypeDesc::scalar(w.element);
        }
    } catch (const std::invalid_argument& e) {
        fail_at(at, e);
    }
}

// A structure or union (or an array of them) from its members.
TypePtr compound_type(const TypeWord& w, std::string id, std::vector<Member> members, const Token& at) {
    try {
        TypePtr t = w.element == TypeCode::Struct ? TypeDesc::structure(std::move(id), std::move(members))
                                                  : TypeDesc::union_of(std::move(id), std::move(members));
        if (w.kind == ArrayKind::Scalar) return t;
        return w.element == TypeCode::Struct ? TypeDesc::struct_array(t) : TypeDesc::union_array(t);
    } catch (const std::invalid_argument& e) {
        fail_at(at, e);  // e.g. a member name given twice
    }
}

// Shared by both readers: the counters behind the limits.
class Reader {
public:
    explicit Reader(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

protected:
    const Token& peek(std::size_t ahead = 0) const { return tokens_[std::min(at_ + ahead, tokens_.size() - 1)]; }
    const Token& take() { return tokens_[std::min(at_++, tokens_.size() - 1)]; }

    void enter(const Token& t, std::size_t depth) const {
        if (depth > Limits::max_depth)
            fail_at(t, fmt::format("nested more than {} levels deep", Limits::max_depth));
    }
    void count_field(const Token& t) {
        if (++fields_ > Limits::max_fields) fail_at(t, fmt::format("more than {} fields", Limits::max_fields));
    }
    std::string member_name(const Token& t) {
        if (t.kind != Token::Word || !is_field_name(t.text))
            fail_at(t, t.kind == Token::Word ? fmt::format("\"{}\" is not a field name (letters, digits, _)", t.text)
                                             : std::string("expected a field name"));
        count_field(t);
        return t.text;
    }
    TypeWord type_word(const Token& t) {
        if (t.kind != Token::Word) fail_at(t, "expected a type (double, int32_t, string, struct, union, any, ...)");
        auto w = parse_type_word(t);
        if (!w) fail_at(t, fmt::format("\"{}\" is not a type (double, int32_t, string, struct, union, any, ...)", t.text));
        return *w;
    }

    std::vector<Token> tokens_;
    std::size_t at_ = 0;
    std::size_t fields_ = 0;
};

// ---- the braced form: struct "id" { TYPE NAME ... } ----------------------------------------

class BracedReader : Reader {
public:
    using Reader::Reader;

    TypePtr read() {
        TypePtr t = type(0);
        if (peek().kind != Token::End) fail_at(peek(), "unexpected text after the type");
        return t;
    }

private:
    TypePtr type(std::size_t depth) {
        const Token& at = take();
        const TypeWord w = type_word(at);
        if (!w.compound()) return leaf_type(w, at);
        enter(at, depth + 1);
        std::string id;
        if (peek().kind == Token::Quoted || (peek().kind == Token::Word && peek(1).kind == Token::Open)) id = take().text;
        if (peek().kind != Token::Open)
            fail_at(peek(), fmt::format("expected '{{' and the members of the {}", at.text));
        take();
        std::vector<Member> members;
        while (peek().kind != Token::Close) {
            if (peek().kind == Token::End) fail_at(peek(), fmt::format("'}}' missing for the {} at {}:{}", at.text, at.line, at.column));
            members.push_back(member(depth + 1));
        }
        take();
        return compound_type(w, std::move(id), std::move(members), at);
    }

    Member member(std::size_t depth) {
        Member m;
        const bool any = peek().kind == Token::Word && peek().text == "any";
        m.type = type(depth);
        m.name = member_name(take());
        // pvxinfo prints an empty any as "any NAME" and "null" on the next line
        if (any && peek().kind == Token::Word && peek().text == "null" && peek().starts_line) take();
        return m;
    }
};

// ---- the indented form: "structure ID" and members indented below ------------------------

class IndentedReader : Reader {
public:
    using Reader::Reader;

    TypePtr read() {
        TypePtr t = line(0, /*top=*/true).type;
        if (peek().kind != Token::End) fail_at(peek(), "unexpected text after the type (indentation?)");
        return t;
    }

private:
    // One line: TYPE [ID] [NAME], then the members indented below it.
    Member line(std::size_t depth, bool top) {
        const Token& at = take();
        std::vector<const Token*> rest;
        while (peek().kind != Token::End && !peek().starts_line) rest.push_back(&take());
        auto w = at.kind == Token::Word ? parse_type_word(at) : std::nullopt;
        const bool has_members = peek().kind != Token::End && peek().column > at.column;
        // pvAccessCPP prints a structure by its id alone: "alarm_t alarm" above its members
        const bool by_id = !w && at.kind == Token::Word && has_members;
        if (by_id) w = TypeWord{};
        if (!w) type_word(at);  // throws the message for a non-type
        if (by_id) w->element = TypeCode::Struct;
        Member m;
        const std::size_t names = top ? 0 : 1;
        const std::size_t ids = by_id ? 0 : (w->compound() ? 1 : 0);
        if (rest.size() < names || rest.size() > names + ids)
            fail_at(rest.size() < names ? at : *rest.back(),
                    top ? "expected the type and at most its id" : "expected the type, an id for a structure or union, and the field name");
        std::string id = by_id ? at.text : (rest.size() > names ? rest[0]->text : std::string());
        if (!top) m.name = member_name(*rest.back());
        if (!w->compound()) {
            if (has_members) fail_at(peek(), fmt::format("only structures and unions have members, not {}", at.text));
            m.type = leaf_type(*w, at);
            return m;
        }
        enter(at, depth + 1);
        m.type = compound_type(*w, std::move(id), members(at.column, depth + 1), at);
        return m;
    }

    std::vector<Member> members(std::size_t parent_column, std::size_t depth) {
        std::vector<Member> out;
        const std::size_t column = peek().column;
        while (peek().kind != Token::End && peek().column > parent_column) {
            if (peek().column != column)
                fail_at(peek(), fmt::format("indented to column {}, its siblings to column {}", peek().column, column));
            out.push_back(line(depth, false));
        }
        return out;
    }
};

// ---- writing ------------------------------------------------------------------------------

void append_id(std::string& out, const std::string& id) {
    if (id.empty()) return;
    out += " \"";
    for (char c : id) {
        if (c == '"' || c == '\\') out += '\\';
        if (c == '\n') out += "\\n";
        else out += c;
    }
    out += '"';
}

std::string leaf_word(const TypeDesc& t) {
    const TypeCode c = t.code();
    if (c == TypeCode::BoundedString) return fmt::format("string({})", t.bound());
    std::string word = pvxs_type_name(type_code::element_of(c));
    switch (type_code::array_kind(type_code::raw(c))) {
    case ArrayKind::Variable: return word + "[]";
    case ArrayKind::Bounded: return fmt::format("{}[<{}]", word, t.bound());
    case ArrayKind::Fixed: return fmt::format("{}[{}]", word, t.bound());
    default: return word;
    }
}

void write_type(std::string& out, const TypeDesc& t, std::string_view name, int level) {
    out.append(std::size_t(level) * 4, ' ');
    const TypeDesc* body = t.element() ? t.element().get() : &t;
    if (body->code() != TypeCode::Struct && body->code() != TypeCode::Union) {
        out += leaf_word(t);
    } else {
        out += pvxs_type_name(t.code());
        append_id(out, body->id());
        out += " {";
        if (body->member_count()) out += '\n';
        for (std::size_t i = 0; i < body->member_count(); ++i)
            write_type(out, *body->member_type(i), body->member_name(i), level + 1);
        if (body->member_count()) out.append(std::size_t(level) * 4, ' ');
        out += '}';
    }
    if (!name.empty()) (out += ' ') += name;
    out += '\n';
}

}  // namespace

bool is_field_name(std::string_view s) noexcept {
    const auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    if (s.empty() || !alpha(s[0])) return false;
    for (char c : s)
        if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
    return true;
}

TypePtr parse_type_text(std::string_view text) {
    if (text.size() > Limits::max_text)
        throw SchemaError(fmt::format("type text: {} bytes, more than the {} allowed", text.size(), Limits::max_text));
    std::vector<Token> tokens = Tokenizer(text).run();
    if (tokens.front().kind == Token::End) fail_at(tokens.front(), "no type given");
    bool braced = false;
    for (const auto& t : tokens) braced = braced || t.kind == Token::Open || t.kind == Token::Close;
    if (braced) return BracedReader(std::move(tokens)).read();
    return IndentedReader(std::move(tokens)).read();
}

std::string format_type_text(const TypeDesc& type) {
    std::string out;
    write_type(out, type, {}, 0);
    return out;
}

}  // namespace pvwire

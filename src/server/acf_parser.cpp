// The ACF reader: EPICS asLib's syntax (modules/libcom/src/as/asLib.y and asLib_lex.l in
// epics-base, read for the facts), plus the Secure PVAccess rule predicates METHOD, AUTHORITY
// and PROTOCOL and p4p's access keywords RPC, PUT and UNCACHED. A little more lenient than
// asLib where that cannot change a file's meaning: empty braces, commas between a rule's
// conditions, and UAG/HAG references to groups defined further down.
#include "access_rules_model.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>

namespace pvwire::server {
namespace {

using Model = AccessRules::Model;
using Place = Model::Place;

struct Token {
    enum class Kind { word, string, punct, end };
    Kind kind = Kind::end;
    std::string text;
    Place at;

    bool is(char c) const { return kind == Kind::punct && text[0] == c; }
    bool is_word(std::string_view w) const { return kind == Kind::word && text == w; }
    bool is_name() const { return kind == Kind::word || kind == Kind::string; }
    std::string describe() const {
        switch (kind) {
        case Kind::word: return text;
        case Kind::string: return "\"" + text + "\"";
        case Kind::punct: return "'" + text + "'";
        case Kind::end: break;
        }
        return "the end of the file";
    }
};

// asLib_lex.l's unquoted name characters.
bool is_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("_-+:.[]<>;").find(c) != std::string_view::npos;
}

class Lexer {
public:
    Lexer(std::string_view text, const std::string& source) : text_(text), source_(source) {}

    Token next() {
        skip_blanks();
        Token t;
        t.at = {line_, column()};
        if (pos_ == text_.size()) return t;
        const char c = text_[pos_];
        if (c == '"') return quoted(t);
        if (std::string_view("(){},").find(c) != std::string_view::npos) {
            ++pos_;
            t.kind = Token::Kind::punct;
            t.text = std::string(1, c);
            return t;
        }
        if (!is_name_char(c)) throw AccessRulesError(source_, line_, column(), invalid_character(c));
        const std::size_t start = pos_;
        while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
        t.kind = Token::Kind::word;
        t.text = std::string(text_.substr(start, pos_ - start));
        return t;
    }

private:
    int column() const { return static_cast<int>(pos_ - line_start_) + 1; }

    void skip_blanks() {
        while (pos_ < text_.size()) {
            const char c = text_[pos_];
            if (c == '\n') {
                ++pos_;
                ++line_;
                line_start_ = pos_;
            } else if (c == '#') {
                while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
            } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
                ++pos_;
            } else {
                return;
            }
        }
    }

    // "..." with \x standing for x; a newline or the end of the text before the closing quote
    // is an error at the opening one.
    Token quoted(Token t) {
        t.kind = Token::Kind::string;
        ++pos_;
        while (pos_ < text_.size() && text_[pos_] != '"' && text_[pos_] != '\n') {
            if (text_[pos_] == '\\' && pos_ + 1 < text_.size() && text_[pos_ + 1] != '\n') ++pos_;
            t.text += text_[pos_++];
        }
        if (pos_ == text_.size() || text_[pos_] != '"')
            throw AccessRulesError(source_, t.at.line, t.at.column,
                                   "unterminated string: the closing quote is missing on this line");
        ++pos_;
        return t;
    }

    static std::string invalid_character(char c) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isprint(u)) return std::string("invalid character '") + c + "' (names without quotes take letters, digits and _-+:.[]<>;)";
        static const char hex[] = "0123456789abcdef";
        return std::string("invalid byte 0x") + hex[u >> 4] + hex[u & 15] + " (quote names with other characters)";
    }

    std::string_view text_;
    const std::string& source_;
    std::size_t pos_ = 0;
    std::size_t line_start_ = 0;
    int line_ = 1;
};

struct AccessKeyword {
    std::string_view name;
    AccessRights grants;
};
// WRITE grants PUT and RPC as in p4p's gateway; RPC alone grants only RPC.
constexpr AccessKeyword access_keywords[] = {
    {"NONE", {}},
    {"READ", {true, false, false}},
    {"WRITE", {true, true, true}},
    {"RPC", {false, false, true}},
    {"PUT", {true, true, false}},
    {"UNCACHED", {}},
};

class Parser {
public:
    Parser(std::string_view text, const std::string& source, Model& model)
        : lexer_(text, source), source_(source), m_(model) {
        ahead_ = lexer_.next();
    }

    void run() {
        while (ahead_.kind != Token::Kind::end) item();
        resolve_references();
        ensure_default();
    }

private:
    struct Reference {
        std::size_t asg, rule;
        bool uag;
        Token name;
    };

    [[noreturn]] void fail(const Place& at, const std::string& message) const {
        throw AccessRulesError(source_, at.line, at.column, message);
    }

    Token take() {
        Token t = std::move(ahead_);
        ahead_ = lexer_.next();
        return t;
    }
    bool take_if(char c) {
        if (!ahead_.is(c)) return false;
        take();
        return true;
    }
    void expect(char c, std::string_view what) {
        if (!ahead_.is(c))
            fail(ahead_.at, "expected '" + std::string(1, c) + "' " + std::string(what) + ", got " + ahead_.describe());
        take();
    }
    Token name(std::string_view what) {
        if (!ahead_.is_name()) fail(ahead_.at, "expected " + std::string(what) + ", got " + ahead_.describe());
        return take();
    }
    // NAME {, NAME} up to `close` (not taken); empty allowed.
    std::vector<Token> names(char close, std::string_view what) {
        std::vector<Token> out;
        if (ahead_.is(close)) return out;
        do out.push_back(name(what));
        while (take_if(','));
        if (!ahead_.is(close))
            fail(ahead_.at, "expected ',' or '" + std::string(1, close) + "' after " + out.back().describe() +
                                ", got " + ahead_.describe());
        return out;
    }
    // "(NAME)" after UAG, HAG or ASG.
    Token group_head(std::string_view kind) {
        expect('(', "after " + std::string(kind));
        Token n = name(std::string(kind) + "'s name");
        expect(')', "after " + std::string(kind) + "(" + n.text);
        return n;
    }

    void item() {
        const Token t = take();
        if (t.is_word("UAG")) uag();
        else if (t.is_word("HAG")) hag();
        else if (t.is_word("ASG")) asg();
        else fail(t.at, "expected UAG, HAG or ASG, got " + t.describe());
    }

    template <class Group>
    void check_unique(const std::vector<Group>& groups, const Token& n, std::string_view kind) const {
        for (const auto& g : groups)
            if (g.name == n.text)
                fail(n.at, "duplicate " + std::string(kind) + "(" + n.text + ") (first at line " +
                               std::to_string(g.at.line) + ")");
    }

    void uag() {
        const Token n = group_head("UAG");
        check_unique(m_.uags, n, "UAG");
        Model::Uag g{n.text, n.at, {}};
        if (take_if('{')) {
            for (const Token& u : names('}', "a user name")) {
                if (u.text.empty()) m_.warn(u.at, "an empty user name in UAG(" + n.text + ") matches clients that give none");
                if (!g.users.insert(u.text).second) m_.warn(u.at, "user \"" + u.text + "\" twice in UAG(" + n.text + ")");
            }
            take();
        }
        m_.uags.push_back(std::move(g));
    }

    void hag() {
        const Token n = group_head("HAG");
        check_unique(m_.hags, n, "HAG");
        Model::Hag g{n.text, n.at, {}, {}};
        if (take_if('{')) {
            for (const Token& h : names('}', "a host name or address")) {
                if (h.text.empty()) fail(h.at, "empty host name in HAG(" + n.text + ")");
                g.hosts.push_back({h.text, h.at});
            }
            take();
        }
        m_.hags.push_back(std::move(g));
    }

    void asg() {
        const Token n = group_head("ASG");
        check_unique(m_.asgs, n, "ASG");
        m_.asg_index.emplace(n.text, m_.asgs.size());
        m_.asgs.push_back({n.text, n.at, {}});
        if (!take_if('{')) return;
        while (!take_if('}')) {
            const Token t = take();
            if (t.is_word("RULE")) rule(t);
            else if (t.kind == Token::Kind::word && t.text.size() == 4 && t.text.compare(0, 3, "INP") == 0 &&
                     t.text[3] >= 'A' && t.text[3] <= 'L')
                input(t);
            else
                fail(t.at, "expected RULE, INPA..INPL or '}' in ASG(" + n.text + "), got " + t.describe());
        }
    }

    void input(const Token& inp) {
        expect('(', "after " + inp.text);
        const Token pv = name("a PV name");
        expect(')', "after " + inp.text + "(" + pv.describe());
        m_.warn(inp.at, inp.text + "(" + pv.text + ") is not read: pvwire does not evaluate CALC");
    }

    void rule(const Token& keyword) {
        Model::Rule r;
        r.at = keyword.at;
        expect('(', "after RULE");
        r.level = level(take());
        expect(',', "after RULE's level");
        access(r, take());
        if (take_if(',')) {
            const Token trap = take();
            if (trap.is_word("TRAPWRITE")) r.trap_write = true;
            else if (!trap.is_word("NOTRAPWRITE"))
                fail(trap.at, "expected TRAPWRITE or NOTRAPWRITE, got " + trap.describe());
        }
        expect(')', "to close RULE(...)");
        m_.asgs.back().rules.push_back(std::move(r));
        if (!take_if('{')) return;
        while (!take_if('}')) {
            condition(m_.asgs.back().rules.back());
            take_if(',');
        }
    }

    int level(const Token& t) const {
        int value = -1;
        const char* end = t.text.data() + t.text.size();
        const auto [p, ec] = std::from_chars(t.text.data(), end, value);
        if (t.kind != Token::Kind::word || ec != std::errc() || p != end || value < 0)
            fail(t.at, "bad level " + t.describe() + ": RULE's first argument is an access security level, a number from 0");
        return value;
    }

    void access(Model::Rule& r, const Token& t) const {
        for (const auto& k : access_keywords)
            if (t.is_name() && t.text == k.name) {
                r.keyword = t.text;
                r.grants = k.grants;
                if (k.name == "UNCACHED")
                    m_.warn(t.at, "UNCACHED grants nothing in pvwire (p4p's gateway uses it to bypass its cache)");
                return;
            }
        fail(t.at, "unknown access " + t.describe() + " (NONE, READ, WRITE or RPC; PUT and UNCACHED as in p4p)");
    }

    void condition(Model::Rule& r) {
        const Token t = take();
        const bool list = t.is_word("UAG") || t.is_word("HAG") || t.is_word("METHOD") || t.is_word("AUTHORITY") ||
                          t.is_word("PROTOCOL");
        if (!list && !t.is_word("CALC"))
            fail(t.at, "expected UAG, HAG, CALC, METHOD, AUTHORITY, PROTOCOL or '}' in RULE, got " + t.describe());
        expect('(', "after " + t.text);
        if (t.text == "CALC") calc(r);
        else {
            const std::vector<Token> values = names(')', "a name");
            if (values.empty()) fail(ahead_.at, t.text + "() needs at least one name");
            for (const Token& v : values) list_value(r, t.text, v);
        }
        expect(')', "to close " + t.text + "(...)");
    }

    void list_value(Model::Rule& r, std::string_view kind, const Token& v) {
        const std::size_t asg = m_.asgs.size() - 1, rule = m_.asgs.back().rules.size() - 1;
        if (kind == "UAG" || kind == "HAG") references_.push_back({asg, rule, kind == "UAG", v});
        else if (kind == "METHOD") method(r, v);
        else if (kind == "AUTHORITY") r.authorities.push_back(v.text);
        else if (equal_ignoring_case(v.text, "TCP")) r.protocols.push_back(Protocol::tcp);
        else if (equal_ignoring_case(v.text, "TLS")) r.protocols.push_back(Protocol::tls);
        else fail(v.at, "unknown PROTOCOL " + v.describe() + " (TCP or TLS)");
    }

    void method(Model::Rule& r, const Token& v) {
        if (v.text != "anonymous" && v.text != "ca" && v.text != "x509")
            m_.warn(v.at, "METHOD " + v.describe() + " is none of anonymous, ca, x509: no pvwire client has it");
        r.methods.push_back(v.text);
    }

    // asLib refuses assignments in CALC; pvwire does not evaluate CALC, so a rule with one
    // never grants (fails closed), and says so.
    void calc(Model::Rule& r) {
        const Token e = take();
        if (e.kind != Token::Kind::string) fail(e.at, "CALC takes a quoted expression, got " + e.describe());
        if (e.text.find_first_not_of(" \t") == std::string::npos) fail(e.at, "empty CALC expression");
        if (e.text.find(":=") != std::string::npos) fail(e.at, "assignment (:=) in CALC is not allowed");
        int depth = 0;
        for (char c : e.text) {
            depth += c == '(' ? 1 : c == ')' ? -1 : 0;
            if (depth < 0) break;
        }
        if (depth != 0) fail(e.at, "unbalanced parentheses in CALC(\"" + e.text + "\")");
        r.calc = true;
        m_.warn(r.at, "RULE(" + std::to_string(r.level) + ", " + r.keyword + ") with CALC(\"" + e.text +
                                "\") never grants: pvwire does not evaluate CALC");
    }

    template <class Group>
    std::size_t find(const std::vector<Group>& groups, const Token& n, std::string_view kind) const {
        for (std::size_t i = 0; i < groups.size(); ++i)
            if (groups[i].name == n.text) return i;
        fail(n.at, "unknown " + std::string(kind) + " " + n.describe() + " (no " + std::string(kind) + "(" + n.text +
                       ") in this file)");
    }

    void resolve_references() {
        for (const Reference& ref : references_) {
            Model::Rule& r = m_.asgs[ref.asg].rules[ref.rule];
            if (ref.uag) r.uags.push_back(find(m_.uags, ref.name, "UAG"));
            else r.hags.push_back(find(m_.hags, ref.name, "HAG"));
        }
    }

    // asLib adds an empty DEFAULT before reading: PVs of undefined groups get no access.
    void ensure_default() {
        const auto it = m_.asg_index.find("DEFAULT");
        if (it != m_.asg_index.end()) {
            m_.default_asg = it->second;
            return;
        }
        m_.default_asg = m_.asgs.size();
        m_.asg_index.emplace("DEFAULT", m_.asgs.size());
        m_.asgs.push_back({"DEFAULT", {}, {}});
        m_.warn({}, "no ASG(DEFAULT): PVs without a defined ASG get no access");
    }

    Lexer lexer_;
    const std::string& source_;
    Model& m_;
    Token ahead_;
    std::vector<Reference> references_;
};

}  // namespace

void parse_acf(std::string_view text, const std::string& source, AccessRules::Model& into) {
    Parser(text, source, into).run();
}

}  // namespace pvwire::server

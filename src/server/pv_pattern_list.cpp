#include "pv_pattern_list.hpp"

#include "access_rules_model.hpp"

#include <regex.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <utility>

namespace pvwire::server {

// POSIX regex.h (glibc's), not std::regex: libstdc++'s matcher recurses per character and can
// overflow the stack on a long PV name from a client; glibc's does not, and it is the
// extended syntax the CA gateway reads.
struct PvPatternList::Pattern {
    int line = 0;
    bool allow = false;
    std::string asg;
    int asl = 1;
    regex_t regex{};
    bool compiled = false;

    Pattern() = default;
    Pattern(const Pattern&) = delete;
    Pattern& operator=(const Pattern&) = delete;
    ~Pattern() {
        if (compiled) regfree(&regex);
    }
    // The whole name, as the CA gateway matches: POSIX finds the leftmost-longest match, so
    // a match of the whole name exists exactly when that one spans it. (Wrapping the pattern
    // in ^(...)$ instead would change the meaning of one with an unmatched ')', which glibc
    // reads as a literal.)
    bool matches(const std::string& name) const {
        regmatch_t span{};
        return regexec(&regex, name.c_str(), 1, &span, 0) == 0 && span.rm_so == 0 &&
               static_cast<std::size_t>(span.rm_eo) == name.size();
    }
};

namespace {

struct Word {
    std::string text;
    int column;
};

std::vector<Word> split_words(std::string_view line) {
    std::vector<Word> words;
    std::size_t i = 0;
    while (i < line.size()) {
        if (std::isspace(static_cast<unsigned char>(line[i]))) {
            ++i;
            continue;
        }
        const std::size_t start = i;
        while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
        words.push_back({std::string(line.substr(start, i - start)), static_cast<int>(start) + 1});
    }
    return words;
}

std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

class LineReader {
public:
    LineReader(const std::string& source, int line, std::vector<Word> words)
        : source_(source), line_(line), words_(std::move(words)) {}

    [[noreturn]] void fail(std::size_t word, const std::string& message) const {
        throw AccessRulesError(source_, line_, word < words_.size() ? words_[word].column : 0, message);
    }
    const std::vector<Word>& words() const { return words_; }
    int line() const { return line_; }

    // "EVALUATION ORDER ALLOW, DENY" or "... DENY, ALLOW": whether a DENY overrides an ALLOW.
    bool evaluation_order() const {
        std::string order;
        for (std::size_t i = 2; i < words_.size(); ++i) order += upper(words_[i].text);
        if (words_.size() < 2 || upper(words_[1].text) != "ORDER" || (order != "ALLOW,DENY" && order != "DENY,ALLOW"))
            fail(0, "expected EVALUATION ORDER ALLOW, DENY or EVALUATION ORDER DENY, ALLOW");
        return order == "ALLOW,DENY";
    }

    void compile(PvPatternList::Pattern& p) const;
    std::shared_ptr<PvPatternList::Pattern> pattern() const;

private:
    const std::string& source_;
    int line_;
    std::vector<Word> words_;
};

std::string regex_error(int code, const regex_t& regex) {
    char text[256];
    regerror(code, &regex, text, sizeof text);
    return text;
}

// glibc's regcomp copies a sub-expression once per count of a bound ({n,m}) and once more for
// a '+', so stacked ones grow without limit ("a{255}{255}{255}" or "a" and 60 '+' take
// gigabytes), and it parses groups recursively.
// Patterns are checked first: how many elements they expand to, how deep they nest, and no
// back-references (which make matching a client's name exponential).
struct PatternShape {
    std::size_t expanded = 0;
    std::size_t depth = 0;
    bool back_reference = false;
};

constexpr std::size_t max_expanded = 1000;
constexpr std::size_t max_depth = 32;

// The index just past the bracket expression opening at `i` (or the end when it is open).
std::size_t bracket_end(std::string_view p, std::size_t i) {
    ++i;
    if (i < p.size() && p[i] == '^') ++i;
    if (i < p.size() && p[i] == ']') ++i;
    while (i < p.size() && p[i] != ']') {
        if (p[i] == '[' && i + 1 < p.size() && std::string_view(":.=").find(p[i + 1]) != std::string_view::npos) {
            const char close[] = {p[i + 1], ']', 0};
            const auto end = p.find(close, i + 2);
            i = end == std::string_view::npos ? p.size() : end + 2;
        } else {
            ++i;
        }
    }
    return std::min(i + 1, p.size());
}

// The count a bound "{n}", "{n,}" or "{n,m}" at `i` copies its operand, and the index after it;
// {1, i + 1} when it is not a bound (regcomp then judges it).
std::pair<std::size_t, std::size_t> bound_at(std::string_view p, std::size_t i) {
    std::size_t n = 0, m = 0, j = i + 1;
    const auto number = [&](std::size_t& out) {
        const std::size_t start = j;
        while (j < p.size() && std::isdigit(static_cast<unsigned char>(p[j])) && j - start < 6) out = out * 10 + (p[j++] - '0');
        return j > start;
    };
    if (!number(n)) return {1, i + 1};
    if (j < p.size() && p[j] == ',') {
        ++j;
        number(m);
    }
    if (j >= p.size() || p[j] != '}') return {1, i + 1};
    return {std::max<std::size_t>({n, m, 1}) + 1, j + 1};
}

PatternShape shape_of(std::string_view p) {
    PatternShape shape;
    std::vector<std::size_t> sizes{0};  // per open group
    std::size_t last = 0;               // the size of the last element, which a bound repeats
    const auto add = [&](std::size_t n) { sizes.back() = std::min(sizes.back() + n, max_expanded + 1); };
    for (std::size_t i = 0; i < p.size();) {
        const char c = p[i];
        if (c == '(') {
            sizes.push_back(0);
            shape.depth = std::max(shape.depth, sizes.size() - 1);
            last = 0;
            ++i;
        } else if (c == ')' && sizes.size() > 1) {
            last = sizes.back();
            sizes.pop_back();
            add(last);
            ++i;
        } else if (c == '+') {  // read as "x x*": one more copy
            add(last);
            last = std::min(last * 2, max_expanded + 1);
            ++i;
        } else if (c == '*' || c == '?') {
            ++i;
        } else if (c == '{') {
            const auto [count, next] = bound_at(p, i);
            add(std::min(last * (count - 1), max_expanded + 1));
            last = std::min(last * count, max_expanded + 1);
            i = next;
        } else {
            if (c == '\\' && i + 1 < p.size() && p[i + 1] >= '1' && p[i + 1] <= '9') shape.back_reference = true;
            i = c == '[' ? bracket_end(p, i) : i + (c == '\\' ? 2 : 1);
            last = 1;
            add(1);
        }
    }
    while (sizes.size() > 1) {
        const std::size_t g = sizes.back();
        sizes.pop_back();
        add(g);
    }
    shape.expanded = sizes.back();
    return shape;
}

void LineReader::compile(PvPatternList::Pattern& p) const {
    const std::string& pattern = words_[0].text;
    if (pattern.find('\0') != std::string::npos) fail(0, "a NUL byte in a pattern");
    const PatternShape shape = shape_of(pattern);
    if (shape.back_reference) fail(0, "back-references (\\1..\\9) are not supported in patterns");
    if (shape.depth > max_depth) fail(0, "pattern nests groups more than " + std::to_string(max_depth) + " deep");
    if (shape.expanded > max_expanded)
        fail(0, "pattern too large: its bounds ({n,m} and +) expand it beyond " + std::to_string(max_expanded) + " elements");
    const int code = regcomp(&p.regex, pattern.c_str(), REG_EXTENDED);
    p.compiled = code == 0;
    if (!p.compiled) fail(0, "bad regular expression \"" + pattern + "\": " + regex_error(code, p.regex));
}

std::shared_ptr<PvPatternList::Pattern> LineReader::pattern() const {
    if (words_.size() < 2) fail(0, "expected PATTERN ALLOW [ASG [ASL]] or PATTERN DENY");
    auto p = std::make_shared<PvPatternList::Pattern>();
    p->line = line_;
    const std::string command = upper(words_[1].text);
    if (command == "ALLOW") {
        p->allow = true;
        if (words_.size() > 4) fail(4, "unexpected \"" + words_[4].text + "\" after PATTERN ALLOW ASG ASL");
        p->asg = words_.size() > 2 ? words_[2].text : "DEFAULT";
        if (words_.size() > 3) {
            const std::string& t = words_[3].text;
            const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), p->asl);
            if (ec != std::errc() || end != t.data() + t.size() || p->asl < 0)
                fail(3, "bad level \"" + t + "\": the ASL is a number from 0");
        }
    } else if (command == "DENY") {
        if (words_.size() > 2 && upper(words_[2].text) == "FROM")
            fail(2, "DENY FROM is not supported: deny hosts in the ACF (a RULE with a HAG)");
        if (words_.size() > 2) fail(2, "unexpected \"" + words_[2].text + "\" after PATTERN DENY");
    } else if (command == "ALIAS") {
        fail(1, "ALIAS is not supported: pvwire does not rename PVs");
    } else {
        fail(1, "unknown command \"" + words_[1].text + "\" (ALLOW or DENY)");
    }
    compile(*p);
    return p;
}

}  // namespace

PvPatternList PvPatternList::parse(std::string_view text, const std::string& source,
                                   const std::function<bool(std::string_view)>& defined_asg,
                                   std::vector<std::string>& warnings) {
    PvPatternList list;
    int line_number = 0;
    for (std::size_t start = 0; start <= text.size();) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view line = text.substr(start, end - start);
        start = end + 1;
        ++line_number;
        LineReader reader(source, line_number, split_words(line));
        if (reader.words().empty() || reader.words()[0].text[0] == '#') continue;
        if (upper(reader.words()[0].text) == "EVALUATION") {
            list.deny_overrides_ = reader.evaluation_order();
            continue;
        }
        auto p = reader.pattern();
        if (p->allow && !defined_asg(p->asg))
            warnings.push_back(place_text(source, line_number, reader.words()[2].column,
                                          "ASG(" + p->asg + ") is not in the ACF: DEFAULT's rules apply"));
        list.patterns_.push_back(std::move(p));
    }
    return list;
}

AsgAssignment PvPatternList::lookup(std::string_view pv_name) const {
    AsgAssignment none;
    none.allowed = false;
    const std::string name(pv_name);
    if (name.find('\0') != std::string::npos) return none;
    const Pattern* allow = nullptr;
    const Pattern* deny = nullptr;
    for (auto it = patterns_.rbegin(); it != patterns_.rend() && !(allow && deny); ++it) {
        const Pattern& p = **it;
        if ((p.allow ? allow : deny) || !p.matches(name)) continue;
        (p.allow ? allow : deny) = &p;
    }
    if (allow && !(deny && deny_overrides_)) return {true, allow->asg, allow->asl, allow->line};
    none.line = deny ? deny->line : 0;
    return none;
}

}  // namespace pvwire::server

#include <pvwire/wire/capture_text.hpp>
#include <pvwire/detail/header_only.hpp>

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <string_view>

namespace pvwire::wire::capture {
PVWIRE_IMPL_NAMESPACE(capture_text_impl) {

[[noreturn]] PVWIRE_DECL void fail(const std::string& file, std::size_t line, const std::string& what) {
    throw std::runtime_error(file + ":" + std::to_string(line) + ": " + what);
}

PVWIRE_DECL int hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

PVWIRE_DECL bool is_blank(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
}

PVWIRE_DECL void parse_hex_line(std::string_view line, std::vector<std::uint8_t>& out, const std::string& file,
                    std::size_t lineno) {
    std::size_t i = 0;
    while (i < line.size()) {
        if (line[i] == ' ' || line[i] == '\t') {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < line.size() && line[j] != ' ' && line[j] != '\t')
            ++j;
        const std::string_view tok = line.substr(i, j - i);
        const int hi = tok.size() == 2 ? hex_digit(tok[0]) : -1;
        const int lo = tok.size() == 2 ? hex_digit(tok[1]) : -1;
        if (hi < 0 || lo < 0)
            fail(file, lineno, "malformed hex byte '" + std::string(tok) + "'");
        out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
        i = j;
    }
}

PVWIRE_DECL void finish_record(Record& rec, const std::string& file, std::size_t record_line) {
    const auto it = rec.fields.find("length");
    if (it == rec.fields.end())
        return;
    std::size_t expected = 0;
    try {
        expected = leading_number(it->second);
    } catch (const std::runtime_error& e) {
        fail(file, record_line, std::string("record: ") + e.what());
    }
    if (expected != rec.bytes.size()) {
        fail(file, record_line,
             "record has " + std::to_string(rec.bytes.size()) + " hex bytes but length: says " +
                 std::to_string(expected));
    }
}

}  // namespace
PVWIRE_USE_IMPL_NAMESPACE(capture_text_impl)

PVWIRE_DECL std::size_t leading_number(const std::string& value) {
    std::size_t n = 0;
    std::size_t i = 0;
    for (; i < value.size() && value[i] >= '0' && value[i] <= '9'; ++i) {
        n = n * 10 + static_cast<std::size_t>(value[i] - '0');
    }
    if (i == 0)
        throw std::runtime_error("'" + value + "' does not start with a number");
    return n;
}

PVWIRE_DECL std::vector<Record> parse_stream(std::istream& in, const std::string& file) {
    enum class State { Header, Fields, Hex, AfterHex };
    State state = State::Header;
    std::vector<Record> records;
    std::size_t lineno = 0;
    std::size_t record_line = 0;
    std::string line;

    auto close_record = [&] {
        if (!records.empty())
            finish_record(records.back(), file, record_line);
    };

    while (std::getline(in, line)) {
        ++lineno;
        if (!line.empty() && line.back() == '\r')
            line.pop_back();

        if (line == "[message]") {
            close_record();
            records.emplace_back();
            records.back().file = file;
            record_line = lineno;
            state = State::Fields;
            continue;
        }
        if (!line.empty() && line.front() == '#') {
            if (state != State::Header) {
                std::string_view text(line);
                text.remove_prefix(text.starts_with("# ") ? 2 : 1);
                records.back().comments.emplace_back(text);
            }
            continue;
        }
        if (is_blank(line)) {
            if (state == State::Hex)
                state = State::AfterHex;
            continue;
        }

        switch (state) {
        case State::Header:
            fail(file, lineno, "text before the first [message] record: '" + line + "'");
        case State::Fields: {
            if (line == "hex:") {
                state = State::Hex;
                break;
            }
            const auto sep = line.find(": ");
            if (sep == std::string::npos || sep == 0) {
                fail(file, lineno, "expected 'key: value' or 'hex:', got '" + line + "'");
            }
            auto [it, inserted] =
                records.back().fields.emplace(line.substr(0, sep), line.substr(sep + 2));
            if (!inserted)
                fail(file, lineno, "duplicate key '" + it->first + "'");
            break;
        }
        case State::Hex:
            parse_hex_line(line, records.back().bytes, file, lineno);
            break;
        case State::AfterHex:
            fail(file, lineno, "unexpected text after the hex block: '" + line + "'");
        }
    }
    if (in.bad())
        fail(file, lineno, "read error");
    close_record();
    return records;
}

PVWIRE_DECL std::vector<Record> parse_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error(path.string() + ": cannot open");
    return parse_stream(in, path.string());
}

}  // namespace pvwire::wire::capture

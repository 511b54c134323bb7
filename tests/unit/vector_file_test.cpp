#include "support/vector_file.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

using pvwire::test::leading_number;
using pvwire::test::parse_vector_file;
using pvwire::test::parse_vector_stream;
using pvwire::test::vector_files;
using pvwire::test::VectorRecord;

namespace {

void check_records(const std::filesystem::path& file) {
    INFO("file: " << file.string());
    std::vector<VectorRecord> records;
    REQUIRE_NOTHROW(records = parse_vector_file(file));
    REQUIRE_FALSE(records.empty());
    for (const auto& rec : records) {
        INFO("index: " << (rec.fields.count("index") ? rec.fields.at("index") : "?"));
        CHECK(rec.file == file.string());
        REQUIRE(rec.fields.count("command") == 1);
        REQUIRE(rec.fields.count("direction") == 1);
        REQUIRE(rec.fields.count("length") == 1);
        CHECK(rec.bytes.size() == leading_number(rec.fields.at("length")));
        REQUIRE(rec.bytes.size() >= 8);
        CHECK(rec.bytes[0] == 0xca); // pvAccess magic
    }
}

std::vector<VectorRecord> parse_text(const std::string& text) {
    std::istringstream in(text);
    return parse_vector_stream(in, "inline.txt");
}

} // namespace

TEST_CASE("every message vector file parses", "[vectors]") {
    const auto files = vector_files("messages");
    REQUIRE(files.size() > 100);
    for (const auto& f : files)
        check_records(f);
}

TEST_CASE("every session vector file parses", "[vectors]") {
    const auto files = vector_files("sessions");
    REQUIRE(files.size() > 10);
    for (const auto& f : files)
        check_records(f);
}

TEST_CASE("vector_files is sorted and only lists .txt", "[vectors]") {
    const auto files = vector_files("messages");
    REQUIRE(std::is_sorted(files.begin(), files.end()));
    for (const auto& f : files)
        CHECK(f.extension() == ".txt");
    CHECK_THROWS_AS(vector_files("no-such-subdir"), std::runtime_error);
}

TEST_CASE("session header comments are not attached to records", "[vectors]") {
    for (const auto& file : vector_files("sessions")) {
        INFO("file: " << file.string());
        // Collect the comment lines before the first record straight from the file.
        std::ifstream in(file);
        std::string line;
        std::vector<std::string> header;
        while (std::getline(in, line) && line != "[message]") {
            if (line.rfind("# ", 0) == 0 && line.size() > 2)
                header.push_back(line.substr(2));
        }
        REQUIRE_FALSE(header.empty());
        const auto records = parse_vector_file(file);
        REQUIRE_FALSE(records.empty());
        // The first header line names the session and appears nowhere inside a record.
        for (const auto& rec : records) {
            for (const auto& c : rec.comments)
                CHECK(c != header.front());
        }
    }
}

TEST_CASE("a record's fields, comments and bytes", "[vectors]") {
    const auto records = parse_text("# file header\n"
                                    "# second header line\n"
                                    "\n"
                                    "[message]\n"
                                    "index: 6\n"
                                    "command: SET_BYTE_ORDER (0x02) [control message]\n"
                                    "direction: server->client\n"
                                    "length: 8 (8-byte header + 0 payload)\n"
                                    "description: a: b\n"
                                    "# --- decode ---\n"
                                    "# \n"
                                    "#bare\n"
                                    "hex:\n"
                                    "ca 02 41 02\n"
                                    "00 00 00 00\n"
                                    "\n"
                                    "[message]\n"
                                    "length: 2\n"
                                    "hex:\n"
                                    "CA ff\n"
                                    "[message]\n"
                                    "length: 0\n");
    REQUIRE(records.size() == 3);
    const auto& r = records[0];
    CHECK(r.file == "inline.txt");
    CHECK(r.fields.at("index") == "6");
    CHECK(r.fields.at("command") == "SET_BYTE_ORDER (0x02) [control message]");
    CHECK(r.fields.at("description") == "a: b");
    CHECK(r.comments == std::vector<std::string>{"--- decode ---", "", "bare"});
    CHECK(r.bytes == std::vector<std::uint8_t>{0xca, 0x02, 0x41, 0x02, 0, 0, 0, 0});
    CHECK(records[1].bytes == std::vector<std::uint8_t>{0xca, 0xff});
    CHECK(records[1].comments.empty());
    CHECK(records[2].bytes.empty());
}

TEST_CASE("malformed vector input is rejected with file and line", "[vectors]") {
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(parse_text("[message]\nlength: 2\nhex:\nca 0g\n"),
                      Contains("inline.txt:4") && Contains("malformed hex"));
    CHECK_THROWS_WITH(parse_text("[message]\nlength: 2\nhex:\nca0\n"), Contains("inline.txt:4"));
    CHECK_THROWS_WITH(parse_text("[message]\nlength: 3\nhex:\nca 02\n"),
                      Contains("inline.txt:1") && Contains("length"));
    CHECK_THROWS_WITH(parse_text("[message]\nlength: 1\nhex:\nca\n\n[message]\nlength: 9\n"),
                      Contains("inline.txt:6"));
    CHECK_THROWS_WITH(parse_text("stray text\n[message]\n"), Contains("inline.txt:1"));
    CHECK_THROWS_WITH(parse_text("[message]\nno separator\n"), Contains("inline.txt:2"));
    CHECK_THROWS_WITH(parse_text("[message]\nlength: 1\nhex:\nca\n\nleftover\n"),
                      Contains("inline.txt:6"));
    CHECK_THROWS_WITH(parse_text("[message]\nlength: x\n"), Contains("inline.txt:1"));
    CHECK_THROWS_AS(parse_vector_file("/nonexistent/file.txt"), std::runtime_error);
}

// Hostile and broken input: every decode path fails with a clear error naming the field and
// the byte offset, and never crashes, hangs or allocates what the input does not justify.
#include <catch2/catch.hpp>

#include "../../support/vector_file.hpp"

#include <pvwire/wire/connection_codec.hpp>
#include <pvwire/wire/value_codec.hpp>

using namespace pvwire;
using namespace pvwire::wire;

namespace {

std::vector<std::byte> bytes(std::initializer_list<int> v) {
    std::vector<std::byte> out;
    for (int b : v) out.push_back(std::byte(b));
    return out;
}

// Header (client, little-endian) + body.
std::vector<std::byte> frame(std::uint8_t command, const std::vector<std::byte>& body, std::uint8_t flags = 0) {
    std::vector<std::byte> f(8);
    Header h;
    h.flags = flags;
    h.command = command;
    h.size = std::uint32_t(body.size());
    h.write(f.data());
    f.insert(f.end(), body.begin(), body.end());
    return f;
}

Diagnostic decode_error(const std::vector<std::byte>& f, ConnectionCodec& codec) {
    Message m;
    Diagnostic d;
    const auto r = codec.decode(f, m, d);
    CHECK(r != ConnectionCodec::Result::Message);
    return d;
}

Diagnostic decode_error(const std::vector<std::byte>& f) {
    ConnectionCodec codec;
    return decode_error(f, codec);
}

// GET INIT request for sid 1, ioid 2, carrying the given pvRequest bytes.
std::vector<std::byte> get_init(const std::vector<std::byte>& pvrequest) {
    auto body = bytes({1, 0, 0, 0, 2, 0, 0, 0, 0x08});
    body.insert(body.end(), pvrequest.begin(), pvrequest.end());
    return frame(0x0A, body);
}

}  // namespace

TEST_CASE("a header with the wrong magic byte is refused") {
    auto f = frame(0x02, {});
    f[0] = std::byte(0xCB);
    const auto d = decode_error(f);
    CHECK(d.code == errc::bad_magic);
    CHECK(d.offset == 0);
}

TEST_CASE("protocol version 0 is refused") {
    auto f = frame(0x02, {});
    f[1] = std::byte(0);
    CHECK(decode_error(f).code == errc::bad_version);
}

TEST_CASE("a header announcing more than the configured maximum is refused before any body arrives") {
    Limits lim;
    lim.max_message_bytes = 1024;
    auto f = frame(0x02, {});
    endian::store<std::uint32_t>(f.data() + 4, 1u << 30, ByteOrder::Little);
    Diagnostic d;
    CHECK(ConnectionCodec::frame_length(f, lim, d) == 0);
    CHECK(d.code == errc::too_large);
    CHECK(d.message().find("exceeds the limit") != std::string::npos);
}

TEST_CASE("a frame shorter than its header says is refused") {
    auto f = frame(0x0F, bytes({1, 0, 0, 0, 2, 0, 0, 0}));
    f.pop_back();
    CHECK(decode_error(f).code == errc::truncated);
}

TEST_CASE("every truncation of every golden message fails cleanly or decodes a shorter valid message") {
    // Replays each session; for each TCP message, also tries every shorter body in a copy of
    // the connection state taken just before it.
    std::size_t tried = 0, failed = 0;
    for (const auto& file : pvwire::test::vector_files("sessions")) {
        const auto recs = pvwire::test::parse_vector_file(file);
        std::map<std::string, ConnectionCodec> codecs;
        for (const auto& rec : recs) {
            if (rec.fields.at("transport") != "tcp") continue;
            auto& codec = codecs.try_emplace(rec.fields.at("tcp_stream")).first->second;
            std::vector<std::byte> full(reinterpret_cast<const std::byte*>(rec.bytes.data()),
                                        reinterpret_cast<const std::byte*>(rec.bytes.data()) + rec.bytes.size());
            const bool plain = !(std::uint8_t(full[2]) & (flag::control | flag::segment_mask));
            if (plain && full.size() > 8 && full.size() < 4096) {
                for (std::size_t cut = 8; cut < full.size(); ++cut) {
                    ConnectionCodec probe = codec;  // state just before this message
                    std::vector<std::byte> f(full.begin(), full.begin() + std::ptrdiff_t(cut));
                    endian::store<std::uint32_t>(f.data() + 4, std::uint32_t(cut - 8),
                                                 (std::uint8_t(f[2]) & flag::big_endian) ? ByteOrder::Big
                                                                                         : ByteOrder::Little);
                    Message m;
                    Diagnostic d;
                    const auto r = probe.decode(f, m, d);
                    ++tried;
                    if (r == ConnectionCodec::Result::Error || r == ConnectionCodec::Result::Ignored) {
                        ++failed;
                        CHECK(!d.message().empty());
                        CHECK(d.offset <= cut);
                    }
                }
            }
            Message m;
            Diagnostic d;
            REQUIRE(codec.decode(full, m, d) != ConnectionCodec::Result::Error);
        }
    }
    CHECK(tried > 20000);
    CHECK(failed > tried / 2);  // most prefixes are not valid messages
}

TEST_CASE("an array count larger than the remaining bytes fails before allocating") {
    // pvRequest: structure { double[] a } with a value claiming 0x7FFFFFFF elements
    auto pvr = bytes({0x80, 0x00, 0x01, 0x01, 'a', 0x4B, 0xFE, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0});
    const auto d = decode_error(get_init(pvr));
    CHECK(d.code == errc::truncated);
    CHECK(d.field.find("array count") != std::string::npos);
    CHECK(d.detail.find("2147483647") != std::string::npos);
    CHECK(d.offset == 8 + 9 + 6);  // header + request head + type bytes
}

TEST_CASE("a string array claiming millions of empty-looking elements is bounded by the bytes present") {
    auto pvr = bytes({0x80, 0x00, 0x01, 0x01, 's', 0x68, 0xFE, 0x00, 0x00, 0x00, 0x10, 0x00});
    CHECK(decode_error(get_init(pvr)).code == errc::truncated);
}

TEST_CASE("a size of 2^31 or more is refused") {
    auto pvr = bytes({0x80, 0x00, 0x01, 0x01, 's', 0x60, 0xFE, 0x00, 0x00, 0x00, 0x80});
    const auto d = decode_error(get_init(pvr));
    CHECK(d.code == errc::bad_size);
}

TEST_CASE("a null size where a count is required is refused") {
    auto pvr = bytes({0x80, 0x00, 0xFF});
    CHECK(decode_error(get_init(pvr)).code == errc::bad_size);
}

TEST_CASE("type descriptions nested deeper than the limit are refused") {
    std::vector<std::byte> pvr;
    for (int i = 0; i < 25; ++i) {
        auto lvl = bytes({0x80, 0x00, 0x01, 0x01, 'x'});
        pvr.insert(pvr.end(), lvl.begin(), lvl.end());
    }
    pvr.push_back(std::byte(0x22));
    const auto d = decode_error(get_init(pvr));
    CHECK(d.code == errc::nesting_too_deep);
}

TEST_CASE("variant values nested deeper than the limit are refused") {
    // structure { any v } whose value is any(any(any(...)))
    std::vector<std::byte> pvr = bytes({0x80, 0x00, 0x01, 0x01, 'v', 0x82});
    for (int i = 0; i < 40; ++i) pvr.push_back(std::byte(0x82));
    pvr.push_back(std::byte(0xFF));
    const auto d = decode_error(get_init(pvr));
    CHECK(d.code == errc::nesting_too_deep);
}

TEST_CASE("a reference to a type cache key never defined is refused") {
    const auto d = decode_error(get_init(bytes({0xFE, 0x07, 0x00})));
    CHECK(d.code == errc::unknown_cache_key);
    CHECK(d.detail.find("key 7") != std::string::npos);
}

TEST_CASE("a cache key defined on one direction is unknown on the other") {
    ConnectionCodec codec;
    Message m;
    Diagnostic d;
    // client defines key 1 as an empty structure
    REQUIRE(codec.decode(get_init(bytes({0xFD, 0x01, 0x00, 0x80, 0x00, 0x00})), m, d) ==
            ConnectionCodec::Result::Message);
    // the server's GET INIT reply references its own key 1, which it never defined
    auto reply = frame(0x0A, bytes({2, 0, 0, 0, 0x08, 0xFF, 0xFE, 0x01, 0x00}), flag::from_server);
    CHECK(codec.decode(reply, m, d) == ConnectionCodec::Result::Error);
    CHECK(d.code == errc::unknown_cache_key);
}

TEST_CASE("cache definitions and references are refused where no cache exists (UDP)") {
    const auto data = bytes({0xFD, 1, 0, 0x22});
    Reader r(data, ByteOrder::Little);
    CHECK(decode_type(r, nullptr) == nullptr);
    CHECK(r.diagnostic().code == errc::bad_type_code);
}

TEST_CASE("a union selector beyond the member count is refused") {
    // structure { union { int a; int b } u } = selector 5
    auto pvr = bytes({0x80, 0x00, 0x01, 0x01, 'u', 0x81, 0x00, 0x02, 0x01, 'a', 0x22, 0x01, 'b', 0x22, 0x05});
    const auto d = decode_error(get_init(pvr));
    CHECK(d.code == errc::bad_union_selector);
    CHECK(d.detail.find("selector 5") != std::string::npos);
}

TEST_CASE("unknown type codes are refused") {
    for (int code : {0x01, 0x28 | 0x04 | 0x03, 0x44, 0x61, 0x84, 0x90, 0xC0, 0xFC}) {
        if (type_code::is_valid(std::uint8_t(code))) continue;
        INFO("code " << code);
        CHECK(decode_error(get_init(bytes({0x80, 0x00, 0x01, 0x01, 'x', code}))).code == errc::bad_type_code);
    }
}

TEST_CASE("a structure array whose element is not a structure is refused") {
    CHECK(decode_error(get_init(bytes({0x80, 0x00, 0x01, 0x01, 'x', 0x88, 0x22}))).code == errc::bad_type_code);
}

TEST_CASE("struct array element flags other than 0 and 1 are refused") {
    auto pvr = bytes({0x80, 0x00, 0x01, 0x01, 'x', 0x88, 0x80, 0x00, 0x00, 0x01, 0x07});
    CHECK(decode_error(get_init(pvr)).code == errc::bad_value);
}

TEST_CASE("channel names that are not UTF-8 are refused") {
    auto body = bytes({0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0xC3, 0x28});
    const auto d = decode_error(frame(0x07, body));
    CHECK(d.code == errc::bad_utf8);
    CHECK(d.field.find("channel name") != std::string::npos);
}

TEST_CASE("field names that are not UTF-8 are refused") {
    CHECK(decode_error(get_init(bytes({0x80, 0x00, 0x01, 0x01, 0xFF, 0x22}))).code == errc::bad_utf8);
}

TEST_CASE("a data reply for an operation never initialised is ignored, not fatal") {
    ConnectionCodec codec;
    Message m;
    Diagnostic d;
    auto reply = frame(0x0A, bytes({9, 0, 0, 0, 0x00, 0xFF, 0x01, 0x01}), flag::from_server);
    CHECK(codec.decode(reply, m, d) == ConnectionCodec::Result::Ignored);
    CHECK(d.code == errc::unknown_operation);
}

TEST_CASE("an unknown application command is ignored, not fatal") {
    ConnectionCodec codec;
    Message m;
    Diagnostic d;
    CHECK(codec.decode(frame(0x42, bytes({1, 2, 3})), m, d) == ConnectionCodec::Result::Ignored);
    CHECK(d.code == errc::unknown_command);
}

TEST_CASE("unknown control codes, and the old echo control messages, decode as no-ops") {
    for (int code : {0x00, 0x01, 0x03, 0x04, 0x7E}) {
        ConnectionCodec codec;
        Message m;
        Diagnostic d;
        auto f = frame(std::uint8_t(code), {}, flag::control);
        endian::store<std::uint32_t>(f.data() + 4, 1234, ByteOrder::Little);
        REQUIRE(codec.decode(f, m, d) == ConnectionCodec::Result::Message);
        REQUIRE(std::holds_alternative<Control>(m.body));
        CHECK(std::get<Control>(m.body).data == 1234);
        CHECK(std::uint8_t(std::get<Control>(m.body).code) == code);
    }
}

TEST_CASE("segments out of sequence are refused") {
    ConnectionCodec codec;
    Message m;
    Diagnostic d;
    SECTION("a continuation without a first segment") {
        CHECK(codec.decode(frame(0x0A, bytes({1}), flag::last_segment), m, d) == ConnectionCodec::Result::Error);
        CHECK(d.code == errc::bad_segment);
    }
    SECTION("a whole message inside a segmented one") {
        REQUIRE(codec.decode(frame(0x0A, bytes({1}), flag::first_segment), m, d) == ConnectionCodec::Result::Pending);
        CHECK(codec.decode(frame(0x0A, bytes({1})), m, d) == ConnectionCodec::Result::Error);
        CHECK(d.code == errc::bad_segment);
    }
    SECTION("a continuation with another command byte") {
        REQUIRE(codec.decode(frame(0x0A, bytes({1}), flag::first_segment), m, d) == ConnectionCodec::Result::Pending);
        CHECK(codec.decode(frame(0x0B, bytes({1}), flag::last_segment), m, d) == ConnectionCodec::Result::Error);
    }
    SECTION("control messages between segments pass through") {
        REQUIRE(codec.decode(frame(0x0F, bytes({1, 0, 0, 0}), flag::first_segment), m, d) ==
                ConnectionCodec::Result::Pending);
        REQUIRE(codec.decode(frame(0x02, {}, flag::control), m, d) == ConnectionCodec::Result::Message);
        REQUIRE(codec.decode(frame(0x0F, bytes({2, 0, 0, 0}), flag::last_segment), m, d) ==
                ConnectionCodec::Result::Message);
        REQUIRE(std::holds_alternative<DestroyRequest>(m.body));
        CHECK(std::get<DestroyRequest>(m.body).sid == 1);
        CHECK(std::get<DestroyRequest>(m.body).ioid == 2);
    }
}

TEST_CASE("joined segments larger than the limit are refused") {
    Limits lim;
    lim.max_message_bytes = 100;
    ConnectionCodec codec(lim);
    Message m;
    Diagnostic d;
    std::vector<std::byte> chunk(60);
    REQUIRE(codec.decode(frame(0x02, chunk, flag::first_segment), m, d) == ConnectionCodec::Result::Pending);
    CHECK(codec.decode(frame(0x02, chunk, flag::middle_segment), m, d) == ConnectionCodec::Result::Error);
    CHECK(d.code == errc::too_large);
}

TEST_CASE("a peer flooding the type cache is stopped at the configured total") {
    Limits lim;
    lim.max_cached_fields = 50;
    ConnectionCodec codec(lim);
    Message m;
    Diagnostic d;
    bool refused = false;
    for (int key = 1; key < 100 && !refused; ++key) {
        auto f = get_init(bytes({0xFD, key, 0x00, 0x80, 0x00, 0x01, 0x01, 'a', 0x22, 0x00, 0x00, 0x00, 0x00}));
        refused = codec.decode(f, m, d) == ConnectionCodec::Result::Error;
    }
    CHECK(refused);
    CHECK(d.code == errc::too_large);
}

// Every golden vector (tests/vectors, captured from PVXS and pvAccessCPP) decodes, its decoded
// fields match the file's description and type annotation, and re-encoding gives the same
// bytes. Sessions replay through one ConnectionCodec per TCP connection, so the type cache,
// the operation table and segment reassembly are exercised exactly as on a live connection.
#include <catch2/catch.hpp>

#include "../../support/precondition.hpp"
#include "../../support/vector_file.hpp"

#include <pvwire/wire/connection_codec.hpp>
#include <pvwire/wire/describe.hpp>

#include <map>
#include <regex>
#include <fstream>
#include <set>

using namespace pvwire;
using namespace pvwire::wire;
using pvwire::test::VectorRecord;

namespace {

std::span<const std::byte> as_bytes(const std::vector<std::uint8_t>& v) {
    return {reinterpret_cast<const std::byte*>(v.data()), v.size()};
}

// "structure alarm_t alarm   [@56 type 0x80, 3 fields]" lines, as the vector files write them.
std::vector<std::string> annotation_of(const TypeTrace& trace, std::size_t base) {
    std::vector<std::string> out;
    char buf[64];
    for (const auto& e : trace) {
        std::string line(std::size_t(e.depth) * 2, ' ');
        const std::size_t off = e.offset + base;
        switch (e.kind) {
        case TypeTraceEvent::Kind::Define:
            line += "(define cached type id " + std::to_string(e.key) + ")   [@" + std::to_string(off) + "]";
            break;
        case TypeTraceEvent::Kind::Reference:
            line += "(cached type id " + std::to_string(e.key) + ") " + std::string(e.name) + "   [@" +
                    std::to_string(off) + "]";
            break;
        case TypeTraceEvent::Kind::Field: {
            const TypeDesc& t = *e.type;
            std::snprintf(buf, sizeof buf, "0x%02x", unsigned(type_code::raw(t.code())));
            if (t.code() == TypeCode::Struct || t.code() == TypeCode::Union) {
                line += std::string(type_code::name(t.code())) + (t.id().empty() ? "" : " " + t.id()) + " " + std::string(e.name) +
                        "   [@" + std::to_string(off) + " type " + buf + ", " +
                        std::to_string(t.member_count()) + " fields]";
            } else {
                line += t.type_name() + " " + std::string(e.name) + "   [@" + std::to_string(off) + " type " + buf + "]";
                if (t.code() == TypeCode::StructA || t.code() == TypeCode::UnionA) line += " element:";
            }
            break;
        }
        }
        out.push_back(line);
    }
    return out;
}

std::vector<std::string> annotation_in(const VectorRecord& rec) {
    std::vector<std::string> out;
    for (auto line : rec.comments) {
        if (line.find("[@") == std::string::npos) continue;
        if (auto p = line.find("   <-"); p != std::string::npos) line.erase(p);
        out.push_back(line);
    }
    return out;
}

// key=value pairs of the description line that our describe_fields() also produces.
void check_description(const VectorRecord& rec, const Message& msg) {
    const std::string& desc = rec.fields.at("description");
    std::map<std::string, std::string> theirs;
    static const std::regex kv(R"(([A-Za-z_-]+)=('[^']*'|\[[^\]]*\]|[^ ,]+))");
    for (auto it = std::sregex_iterator(desc.begin(), desc.end(), kv); it != std::sregex_iterator(); ++it) {
        std::string v = (*it)[2];
        if (v.size() >= 2 && v.front() == '\'') v = v.substr(1, v.size() - 2);
        theirs.emplace((*it)[1], v);  // first occurrence wins
    }
    for (const auto& [k, v] : describe_fields(msg)) {
        static const std::set<std::string> compared = {
            "sid", "ioid", "cid", "seq", "port", "found", "guid", "flags", "change", "addr",
            "reply-addr", "rxbuf", "introspection-registry", "qos", "authn", "proto",
            "subfield", "offset", "stride", "sub", "count", "length", "status", "message", "stack", "text"};
        if (!compared.count(k)) continue;
        auto it = theirs.find(k);
        if (it == theirs.end()) continue;
        std::string want = it->second;
        if (k == "status" && want.rfind("OK", 0) == 0) want = "OK";
        INFO(rec.file << " index " << rec.fields.at("index") << ": " << desc);
        INFO("field " << k);
        CHECK(v == want);
    }
}

struct Decoded {
    Message msg;
    std::vector<std::size_t> records;  // indices of the frames it was made of
    TypeTrace trace;
    std::string stream;                // "udp" or the tcp stream
    bool from_server = false;
};

struct SessionReplay {
    std::vector<VectorRecord> records;
    std::vector<Decoded> decoded;
    std::size_t frames = 0;
};

SessionReplay replay(const std::filesystem::path& file) {
    SessionReplay s;
    s.records = pvwire::test::parse_vector_file(file);
    std::map<std::string, ConnectionCodec> codecs;
    std::map<std::string, std::vector<std::size_t>> pending;  // stream+dir -> segment records
    for (std::size_t i = 0; i < s.records.size(); ++i) {
        const auto& rec = s.records[i];
        INFO(file.filename().string() << " record " << i << ": " << rec.fields.at("description"));
        const auto frame = as_bytes(rec.bytes);
        Decoded d;
        Diagnostic diag;
        if (rec.fields.at("transport") == "udp") {
            auto h = Header::parse(frame, &diag);
            REQUIRE(h);
            DecodeContext ctx;
            const bool ok = decode(*h, frame.subspan(header_size), ctx, d.msg, diag);
            INFO(diag.message());
            REQUIRE(ok);
            d.stream = "udp";
            d.records = {i};
        } else {
            const std::string stream = rec.fields.at("tcp_stream");
            auto& codec = codecs.try_emplace(stream).first->second;
            const bool srv = (std::uint8_t(frame[2]) & flag::from_server) != 0;
            auto& segs = pending[stream + (srv ? "s" : "c")];
            segs.push_back(i);
            const auto res = codec.decode(frame, d.msg, diag, nullptr, &d.trace);
            INFO(diag.message());
            REQUIRE(res != ConnectionCodec::Result::Error);
            if (res == ConnectionCodec::Result::Pending) continue;
            d.records = std::move(segs);
            segs.clear();
            d.stream = stream;
        }
        ++s.frames;
        d.from_server = d.msg.from_server;
        s.decoded.push_back(std::move(d));
    }
    return s;
}

}  // namespace

TEST_CASE("every golden session decodes, matches its descriptions and re-encodes byte for byte") {
    const auto files = pvwire::test::vector_files("sessions");
    REQUIRE(files.size() >= 50);
    std::size_t messages = 0, segmented = 0, cached = 0, continuations = 0, records = 0;
    for (const auto& file : files) {
        SessionReplay s = replay(file);
        REQUIRE(!s.decoded.empty());
        records += s.records.size();
        for (const auto& rec : s.records)
            if (rec.bytes.size() >= 8 && !(rec.bytes[2] & flag::control) && (rec.bytes[2] & flag::last_segment))
                ++continuations;

        // which senders use the type cache (pvAccessCPP): they get a registry, and segment
        // large arrays the way pvAccessCPP does
        std::set<std::string> caching;
        for (const auto& d : s.decoded)
            for (const auto& e : d.trace)
                if (e.kind == TypeTraceEvent::Kind::Define) caching.insert(d.stream + (d.from_server ? "s" : "c"));

        std::map<std::string, TypeRegistry> registries, flipped_registries, back_registries;
        std::map<std::string, ConnectionCodec> flipped_codecs;
        EncodeOptions cpp_style;
        cpp_style.segment_large_arrays = true;
        for (const auto& d : s.decoded) {
            const VectorRecord& first = s.records[d.records.front()];
            INFO(file.filename().string() << " index " << first.fields.at("index") << ": "
                                          << first.fields.at("description"));
            ++messages;
            if (d.records.size() > 1) ++segmented;

            if (d.records.size() == 1) check_description(first, d.msg);
            const auto ours = annotation_of(d.trace, header_size);
            const auto theirs = annotation_in(first);
            if (!theirs.empty()) CHECK(ours == theirs);

            const std::string key = d.stream + (d.from_server ? "s" : "c");
            const bool cpp = caching.count(key) > 0;
            if (cpp) ++cached;
            EncodeContext ectx;
            ectx.types = cpp ? &registries[key] : nullptr;
            ectx.options = cpp ? &cpp_style : nullptr;
            const auto bytes = encode_to_bytes(d.msg, ectx);
            std::vector<std::uint8_t> want;
            for (auto idx : d.records) want.insert(want.end(), s.records[idx].bytes.begin(), s.records[idx].bytes.end());
            std::vector<std::uint8_t> got(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                          reinterpret_cast<const std::uint8_t*>(bytes.data()) + bytes.size());
            CHECK(got == want);

            // The same message in the other byte order decodes to the same content: encode it
            // flipped, decode that, and encode the result in the original order again.
            Message flipped = d.msg;
            flipped.order = d.msg.order == ByteOrder::Big ? ByteOrder::Little : ByteOrder::Big;
            EncodeContext fctx;
            fctx.types = cpp ? &flipped_registries[key] : nullptr;
            const auto fbytes = encode_to_bytes(flipped, fctx);
            // Its header announces the flipped order, and reading the body in that order gives
            // the original content back (re-encoded below, it must be `bytes` again).
            Diagnostic diag;
            const auto fh = Header::parse(fbytes, &diag);
            REQUIRE(fh);
            CHECK(fh->order() == flipped.order);
            CHECK(fh->command == Header::parse(bytes, &diag)->command);
            Message again;
            if (d.stream == "udp") {
                DecodeContext uctx;
                REQUIRE(decode(*fh, std::span<const std::byte>(fbytes).subspan(header_size), uctx, again, diag));
            } else {
                auto& fc = flipped_codecs.try_emplace(d.stream).first->second;
                const auto res = fc.decode(fbytes, again, diag);
                INFO(diag.message());
                REQUIRE(res == ConnectionCodec::Result::Message);
            }
            CHECK(again.order == flipped.order);
            again.order = d.msg.order;
            EncodeContext bctx;
            bctx.types = cpp ? &back_registries[key] : nullptr;
            bctx.options = cpp ? &cpp_style : nullptr;
            const auto back = encode_to_bytes(again, bctx);
            CHECK(back == bytes);
        }
    }
    CHECK(messages == records - continuations);  // every frame ended up in a message
    CHECK(records > 1400);
    CHECK(segmented == 3);                        // 2 GET + 1 MONITOR reply of pvAccessCPP
    CHECK(cached > 100);
}

TEST_CASE("every single-message vector is the same bytes as its record in the session it came from") {
    const auto files = pvwire::test::vector_files("messages");
    REQUIRE(files.size() > 250);
    std::map<std::string, std::vector<VectorRecord>> sessions;
    for (const auto& file : files) {
        const std::string name = file.filename().string();
        const std::string session = name.substr(0, name.find("__"));
        auto it = sessions.find(session);
        if (it == sessions.end())
            it = sessions.emplace(session, pvwire::test::parse_vector_file(pvwire::test::vectors_dir() / "sessions" /
                                                                          (session + ".session.txt"))).first;
        const auto recs = pvwire::test::parse_vector_file(file);
        REQUIRE(recs.size() == 1);
        const auto index = std::stoul(recs[0].fields.at("index"));
        INFO(name);
        REQUIRE(index < it->second.size());
        CHECK(it->second[index].bytes == recs[0].bytes);
    }
}

TEST_CASE("the vectors copied into the project are in step with the shared folder") {
    // The project keeps its own copy so tests pass on a fresh clone; scripts/sync-vectors
    // refreshes it. CI and developer machines have the shared folder beside the checkout;
    // without it the test is skipped, except in CI, where it fails.
    const auto shared = std::filesystem::path(PVWIRE_SOURCE_DIR) / ".." / "shared" / "vectors";
    if (!std::filesystem::exists(shared)) {
        pvwire::test::missing_precondition("no shared vectors folder at " + shared.string());
        return;
    }
    std::size_t compared = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(shared)) {
        if (!entry.is_regular_file()) continue;
        const auto rel = std::filesystem::relative(entry.path(), shared);
        const auto ours = pvwire::test::vectors_dir() / rel;
        INFO(rel.string() << " (run scripts/sync-vectors)");
        REQUIRE(std::filesystem::exists(ours));
        std::ifstream a(entry.path(), std::ios::binary), b(ours, std::ios::binary);
        const std::string sa((std::istreambuf_iterator<char>(a)), {}), sb((std::istreambuf_iterator<char>(b)), {});
        CHECK(sa == sb);
        ++compared;
    }
    CHECK(compared > 300);
}

namespace {

// The text pvxget printed for a field: "-7", "\"hello\"", "true", "{2}[1, 0]".
std::string pvxs_text(const Value& f) {
    const TypeCode c = f.code();
    if (type_code::is_array(c) && type_code::is_scalar(type_code::element_of(c))) {
        std::string s = "{" + std::to_string(f.array_size()) + "}[";
        const auto items = f.as<std::vector<std::string>>();
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (i) s += ", ";
            if (c == TypeCode::StringA) s += "\"" + items[i] + "\"";
            else if (c == TypeCode::BoolA) s += items[i] == "true" ? "1" : "0";
            else s += items[i];
        }
        return s + "]";
    }
    if (type_code::is_string(c)) return "\"" + f.as<std::string>() + "\"";
    return f.as<std::string>();
}

}  // namespace

TEST_CASE("decoded GET values are the values pvxget printed for the same bytes") {
    // Each PVXS get session's header holds pvxget's output ("    value double = 42"); compare
    // every scalar and scalar-array field line with the decoded GET reply.
    std::size_t compared = 0;
    for (const auto& file : pvwire::test::vector_files("sessions")) {
        const std::string name = file.filename().string();
        if (name.rfind("get_", 0) != 0 || name == "get_multi.session.txt") continue;
        std::ifstream in(file);
        std::vector<std::pair<std::string, std::string>> printed;  // path, text
        static const std::regex line(R"(^#   \|     ([A-Za-z0-9_.]+) [a-z0-9_]+(\[\])? = (.*)$)");
        for (std::string l; std::getline(in, l) && l.rfind("[message]", 0) != 0;) {
            std::smatch m;
            if (std::regex_match(l, m, line)) printed.emplace_back(m[1], m[3]);
        }
        SessionReplay s = replay(file);
        Value got;
        for (const auto& d : s.decoded)
            if (auto* r = std::get_if<GetResponse>(&d.msg.body); r && !r->is_init() && r->data) got = r->data;
        if (!got || printed.empty()) continue;
        for (const auto& [path, text] : printed) {
            Value f = got.field(path);
            if (!f || f.code() == TypeCode::Struct || f.code() == TypeCode::Union || f.code() == TypeCode::Any) continue;
            if (!type_code::is_scalar(f.code()) && !(type_code::is_array(f.code()) && type_code::is_scalar(type_code::element_of(f.code()))))
                continue;
            INFO(name << ": " << path);
            if (type_code::is_float(f.code()) || f.code() == TypeCode::Float64A || f.code() == TypeCode::Float32A) {
                if (!type_code::is_array(f.code())) {
                    CHECK(f.as<double>() == std::stod(text));
                    ++compared;
                    continue;
                }
            }
            const std::string ours = pvxs_text(f);
            if (text.size() > 4 && text.compare(text.size() - 4, 4, "...]") == 0)  // output cut short
                CHECK(ours.compare(0, text.size() - 4, text, 0, text.size() - 4) == 0);
            else
                CHECK(ours == text);
            ++compared;
        }
    }
    CHECK(compared >= 45);
}

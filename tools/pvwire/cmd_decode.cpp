// `pvwire decode [FILE...]`: decodes pvAccess messages from capture text files (the golden
// vector format, tests/vectors/README.md), from hex text or from raw message bytes, and prints
// them as dumps, one-line summaries or JSON.
#include "commands.hpp"
#include "decode.hpp"

#include <pvwire/net/address.hpp>
#include <pvwire/wire/capture_text.hpp>
#include <pvwire/wire/connection_codec.hpp>
#include <pvwire/wire/describe.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string_view>

namespace pvwire::tool {
namespace {

using namespace pvwire::wire;
using json = nlohmann::ordered_json;  // keys in the order written

std::span<const std::byte> as_bytes(const std::vector<std::uint8_t>& v) {
    return {reinterpret_cast<const std::byte*>(v.data()), v.size()};
}

std::string hex8(unsigned v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x", v & 0xFFu);
    return buf;
}

const char* arrow(bool from_server) { return from_server ? "s->c" : "c->s"; }

std::string flags_text(std::uint8_t f) {
    std::string s = hex8(f) + " (";
    s += (f & flag::from_server) ? "server" : "client";
    s += (f & flag::big_endian) ? ", big-endian" : ", little-endian";
    if (f & flag::control) s += ", control";
    switch (f & flag::segment_mask) {
    case flag::first_segment: s += ", first segment"; break;
    case flag::middle_segment: s += ", middle segment"; break;
    case flag::last_segment: s += ", last segment"; break;
    default: break;
    }
    return s + ")";
}

// ---- -# N: shorten one-line scalar arrays in dumps ("double[] value [1, 2, 3]") ------------

std::string limit_line(const std::string& line, std::size_t max) {
    if (line.empty() || line.back() != ']') return line;
    const auto t = line.find("[] ");
    if (t == std::string::npos) return line;
    std::size_t open = t + 3;
    if (open >= line.size()) return line;
    if (line[open] != '[') {
        const auto sp = line.find(' ', open);
        if (sp == std::string::npos || sp + 1 >= line.size() || line[sp + 1] != '[') return line;
        open = sp + 1;
    }
    if (line.size() - open <= 2) return line;  // "[]"
    std::size_t count = 1, cut = std::string::npos;
    bool quoted = false;
    for (std::size_t i = open + 1; i + 1 < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '\\') ++i;
            else if (c == '"') quoted = false;
            continue;
        }
        if (c == '"') quoted = true;
        else if (c == ',') {
            if (count == max && cut == std::string::npos) cut = i;
            ++count;
        }
    }
    if (count <= max || cut == std::string::npos) return line;
    return line.substr(0, cut) + ", ...] (" + std::to_string(count) + " elements)";
}

// The codec's descriptions give addresses as the 16 bytes on the wire (the golden vectors are
// compared with them); a reader wants 127.0.0.1 or IPv6 text: "addr=<32 hex digits>" becomes
// "addr=127.0.0.1" wherever it appears.
std::string readable_address(std::string_view hex) {
    wire::Address a;
    for (std::size_t i = 0; i < a.bytes.size(); ++i)
        a.bytes[i] = std::uint8_t(std::stoul(std::string(hex.substr(2 * i, 2)), nullptr, 16));
    return net::from_wire(a).to_string();
}

std::string readable_addresses(std::string text) {
    constexpr std::string_view key = "addr=";
    for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
        const auto from = at + key.size();
        if (text.size() < from + 32 || text.find_first_not_of("0123456789abcdef", from) < from + 32) continue;
        if (from + 32 < text.size() && std::isxdigit(static_cast<unsigned char>(text[from + 32]))) continue;
        text.replace(from, 32, readable_address(std::string_view(text).substr(from, 32)));
    }
    return text;
}

std::string limit_arrays(const std::string& text, std::size_t max) {
    if (max == 0) return text;
    std::string out;
    std::size_t at = 0;
    bool first = true;
    while (at < text.size()) {
        auto nl = text.find('\n', at);
        if (nl == std::string::npos) nl = text.size();
        const std::string line = text.substr(at, nl - at);
        out += first ? line : limit_line(line, max);  // line 0 is the summary
        out += '\n';
        first = false;
        at = nl + 1;
    }
    return out;
}

// ---- type traces (--types), in the style of the vector files' annotations ------------------

std::string trace_line(const TypeTraceEvent& e) {
    std::string line(std::size_t(e.depth < 0 ? 0 : e.depth) * 2, ' ');
    const std::string off = std::to_string(e.offset + header_size);
    switch (e.kind) {
    case TypeTraceEvent::Kind::Define:
        return line + "(define cached type id " + std::to_string(e.key) + ")   [@" + off + "]";
    case TypeTraceEvent::Kind::Reference:
        return line + "(cached type id " + std::to_string(e.key) + ") " + std::string(e.name) + "   [@" + off + "]";
    case TypeTraceEvent::Kind::Field: break;
    }
    if (!e.type) return line + "(null type) " + std::string(e.name) + "   [@" + off + "]";
    const TypeDesc& t = *e.type;
    const std::string code = hex8(type_code::raw(t.code()));
    if (t.code() == TypeCode::Struct || t.code() == TypeCode::Union) {
        line += std::string(type_code::name(t.code())) + (t.id().empty() ? "" : " " + t.id()) + " " +
                std::string(e.name) + "   [@" + off + " type " + code + ", " + std::to_string(t.member_count()) +
                " fields]";
    } else {
        line += t.type_name() + " " + std::string(e.name) + "   [@" + off + " type " + code + "]";
        if (t.code() == TypeCode::StructA || t.code() == TypeCode::UnionA) line += " element:";
    }
    return line;
}

json trace_json(const TypeTraceEvent& e) {
    json j;
    j["offset"] = e.offset + header_size;
    j["depth"] = e.depth;
    switch (e.kind) {
    case TypeTraceEvent::Kind::Define: j["event"] = "define"; j["key"] = e.key; return j;
    case TypeTraceEvent::Kind::Reference: j["event"] = "reference"; j["key"] = e.key; break;
    case TypeTraceEvent::Kind::Field: j["event"] = "field"; break;
    }
    j["name"] = std::string(e.name);
    if (e.type) {
        j["type"] = e.type->type_name();
        j["code"] = hex8(type_code::raw(e.type->code()));
        if (!e.type->id().empty()) j["id"] = e.type->id();
    }
    if (e.element) j["element"] = true;
    return j;
}

// ---- the decoder: codecs per TCP stream, printing -------------------------------------------

// Where a message (or segment) came from.
struct Origin {
    std::string index;      // record index (of the last segment, for a segmented message)
    std::string first;      // segmented message: index of its first segment
    std::string transport;  // "tcp", "udp", "hex"
    std::string stream;     // TCP stream ("" for UDP)
    std::size_t bytes = 0;  // bytes on the wire (all segments)
    std::uint8_t flags = 0; // header flags of the (first) frame
    bool from_server = false;
    std::size_t segments = 1;

    std::string where() const { return stream.empty() ? transport : transport + "/" + stream; }
    std::string label() const { return first.empty() ? index : first + "-" + index; }
};

class Decoder {
public:
    Decoder(const DecodeOptions& opt, std::ostream& out, std::ostream& err, std::string input)
        : opt_(opt), out_(out), err_(err), input_(std::move(input)) {}

    bool silent = false;  // replaying context: print nothing, not even errors
    bool failed() const { return failed_; }
    std::size_t messages() const { return messages_; }
    bool broken(const std::string& stream) const {
        auto it = streams_.find(stream);
        return it != streams_.end() && it->second->broken;
    }

    void note(const std::string& text) {
        if (!silent && !opt_.quiet) err_ << "note: " << input_ << ": " << text << "\n";
    }

    // One TCP frame (header + body) of `stream`.
    void tcp(const std::string& stream, std::span<const std::byte> frame, Origin o) {
        auto& st = streams_[stream];
        if (!st) st = std::make_unique<Stream>();
        if (st->broken) {
            ++st->skipped;
            return;
        }
        if (frame.size() >= 3) {
            o.flags = std::uint8_t(frame[2]);
            o.from_server = (o.flags & flag::from_server) != 0;
        }
        auto& seg = st->segments[o.from_server];
        Message msg;
        Diagnostic diag;
        TypeTrace trace;
        ConnectionCodec::Result res;
        try {
            res = st->codec.decode(frame, msg, diag, nullptr, opt_.types ? &trace : nullptr);
        } catch (const std::exception& e) {
            diag = Diagnostic{};
            diag.detail = std::string("exception: ") + e.what();
            res = ConnectionCodec::Result::Error;
        }
        switch (res) {
        case ConnectionCodec::Result::Pending:
            if (!seg.pending) seg = Segments{true, o.index, 0, 0, o.flags};
            seg.bytes += frame.size();
            ++seg.count;
            print_pending(o);
            return;
        case ConnectionCodec::Result::Ignored:  // unusable but well framed: the stream goes on
            error(o, diag);
            seg = Segments{};
            return;
        case ConnectionCodec::Result::Error:  // the stream's state is unknown from here on
            st->broken = true;
            error(o, diag);
            seg = Segments{};
            return;
        case ConnectionCodec::Result::Message:
            if (seg.pending) {
                o.first = seg.first;
                o.bytes += seg.bytes;
                o.segments = seg.count + 1;
                o.flags = seg.flags;
                seg = Segments{};
            }
            print_message(o, msg, trace);
            return;
        }
    }

    // One UDP message, decoded on its own.
    void udp(std::span<const std::byte> frame, Origin o) {
        Message msg;
        Diagnostic diag;
        TypeTrace trace;
        if (frame.size() >= 3) {
            o.flags = std::uint8_t(frame[2]);
            o.from_server = (o.flags & flag::from_server) != 0;
        }
        try {
            auto h = Header::parse(frame, &diag);
            if (!h) return error(o, diag);
            if (frame.size() != header_size + h->body_size()) {
                diag.code = make_error_code(frame.size() < header_size + h->body_size() ? errc::truncated
                                                                                         : errc::trailing_bytes);
                diag.offset = frame.size();
                diag.field = "frame";
                diag.detail = "message of " + std::to_string(frame.size()) + " bytes, header says " +
                              std::to_string(header_size + h->body_size());
                return error(o, diag);
            }
            DecodeContext ctx;
            ctx.trace = opt_.types ? &trace : nullptr;
            if (!decode(*h, frame.subspan(header_size), ctx, msg, diag)) return error(o, diag);
        } catch (const std::exception& e) {
            diag = Diagnostic{};
            diag.detail = std::string("exception: ") + e.what();
            return error(o, diag);
        }
        print_message(o, msg, trace);
    }

    // Plain error without a Diagnostic (bad input framing).
    void error(const std::string& text) {
        failed_ = true;
        if (silent) return;
        err_ << "error: " << input_ << ": " << text << "\n";
        if (opt_.format == DecodeOptions::Format::Json) out_ << json{{"input", input_}, {"error", text}}.dump() << "\n";
    }

    // End of the input: what was left undone.
    void finish() {
        for (const auto& [name, st] : streams_) {
            const std::string where = name.empty() ? std::string("input") : "tcp stream " + name;
            if (st->skipped)
                note(where + ": " + std::to_string(st->skipped) + " later message(s) not decoded after the error");
            for (const auto& seg : st->segments)
                if (seg.pending)
                    note(where + ": input ends inside a segmented message (from index " + seg.first + ")");
        }
    }

private:
    struct Segments {
        bool pending = false;
        std::string first;
        std::size_t bytes = 0, count = 0;
        std::uint8_t flags = 0;
    };
    struct Stream {
        ConnectionCodec codec;
        bool broken = false;
        std::size_t skipped = 0;
        Segments segments[2];  // [from_server]
    };

    json base_json(const Origin& o) const {
        json j;
        j["input"] = input_;
        j["index"] = number_or_text(o.first.empty() ? o.index : o.first);
        if (!o.first.empty()) j["last_index"] = number_or_text(o.index);
        j["direction"] = arrow(o.from_server);
        j["transport"] = o.transport;
        if (!o.stream.empty()) j["stream"] = o.stream;
        j["length"] = o.bytes;
        j["flags"] = hex8(o.flags);
        return j;
    }

    static json number_or_text(const std::string& s) {
        if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) return s;
        return std::stoull(s);
    }
    static std::string dump_json(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

    // "  14  s->c  tcp/0   " : the left columns of --summary
    static std::string columns(const Origin& o) {
        std::string idx = o.label(), where = o.where();
        if (idx.size() < 4) idx.insert(0, 4 - idx.size(), ' ');
        if (where.size() < 6) where.append(6 - where.size(), ' ');
        return idx + "  " + arrow(o.from_server) + "  " + where + "  ";
    }

    void print_pending(const Origin& o) {
        if (silent || opt_.quiet) return;
        switch (opt_.format) {
        case DecodeOptions::Format::Json: {
            json j = base_json(o);
            j["pending"] = true;
            out_ << dump_json(j) << "\n";
            return;
        }
        case DecodeOptions::Format::Summary:
            out_ << columns(o) << "(segment, " << o.bytes << " bytes, waiting for the rest)\n";
            return;
        case DecodeOptions::Format::Dump:
            out_ << "#" << o.index << " " << arrow(o.from_server) << " " << o.where() << "  flags " << flags_text(o.flags)
                 << "\n(segment, " << o.bytes << " bytes, waiting for the rest)\n\n";
            return;
        }
    }

    void print_message(const Origin& o, const Message& msg, const TypeTrace& trace) {
        ++messages_;
        if (silent || opt_.quiet) return;
        switch (opt_.format) {
        case DecodeOptions::Format::Json: {
            json j = base_json(o);
            if (o.segments > 1) j["segments"] = o.segments;
            j["kind"] = kind_name(msg);
            j["summary"] = readable_addresses(summary(msg));
            json fields = json::object();
            for (auto [k, v] : describe_fields(msg)) {
                if (k.ends_with("addr") && v.size() == 32) v = readable_address(v);
                auto it = fields.find(k);
                if (it == fields.end()) fields[k] = v;
                else {
                    if (!it->is_array()) *it = json::array({*it});
                    it->push_back(v);
                }
            }
            j["fields"] = std::move(fields);
            if (opt_.types) {
                json types = json::array();
                for (const auto& e : trace) types.push_back(trace_json(e));
                j["types"] = std::move(types);
            }
            out_ << dump_json(j) << "\n";
            return;
        }
        case DecodeOptions::Format::Summary:
            out_ << columns(o) << readable_addresses(summary(msg)) << "\n";
            if (opt_.types)
                for (const auto& e : trace) out_ << "        " << trace_line(e) << "\n";
            return;
        case DecodeOptions::Format::Dump:
            out_ << "#" << o.label() << " " << arrow(o.from_server) << " " << o.where() << "  " << o.bytes << " bytes";
            if (o.segments > 1) out_ << " in " << o.segments << " segments";
            out_ << "  flags " << flags_text(o.flags) << "\n";
            out_ << limit_arrays(readable_addresses(dump(msg)), opt_.max_elements);
            if (opt_.types && !trace.empty()) {
                out_ << "  type descriptions (byte offsets from the start of the message):\n";
                for (const auto& e : trace) out_ << "    " << trace_line(e) << "\n";
            }
            out_ << "\n";
            return;
        }
    }

    void error(const Origin& o, const Diagnostic& diag) {
        failed_ = true;
        if (silent) return;
        std::string text = diag.code ? diag.message() : diag.detail;
        if (diag.code == make_error_code(errc::unknown_operation))
            text += " (the operation's INIT is not in this input: decode the whole session)";
        err_ << "error: " << input_ << ": #" << o.index << " " << arrow(o.from_server) << " " << o.where() << ": "
             << text << "\n";
        if (opt_.format == DecodeOptions::Format::Json) {
            json j = base_json(o);
            j["error"] = text;
            out_ << dump_json(j) << "\n";
        }
    }

    const DecodeOptions& opt_;
    std::ostream& out_;
    std::ostream& err_;
    std::string input_;
    bool failed_ = false;
    std::size_t messages_ = 0;
    std::map<std::string, std::unique_ptr<Stream>> streams_;
};

// ---- capture text ---------------------------------------------------------------------------

std::string field_or(const capture::Record& rec, const char* key, std::string fallback) {
    auto it = rec.fields.find(key);
    return it == rec.fields.end() ? fallback : it->second;
}

bool is_udp(const capture::Record& rec) { return field_or(rec, "transport", "tcp") == "udp"; }

Origin origin_of(const capture::Record& rec, std::size_t position) {
    Origin o;
    o.index = field_or(rec, "index", std::to_string(position));
    o.transport = is_udp(rec) ? "udp" : "tcp";
    if (!is_udp(rec)) o.stream = field_or(rec, "tcp_stream", "0");
    o.bytes = rec.bytes.size();
    o.from_server = field_or(rec, "direction", "") == "server->client";
    return o;
}

void decode_record(Decoder& dec, const capture::Record& rec, std::size_t position) {
    const Origin o = origin_of(rec, position);
    if (o.transport == "udp") dec.udp(as_bytes(rec.bytes), o);
    else dec.tcp(o.stream, as_bytes(rec.bytes), o);
}

// A single-message file such as messages/get_ntscalar_double__14_s2c_get_exec.txt: find
// sessions/get_ntscalar_double.session.txt and replay the records of the same TCP stream
// before this one, so that the message decodes with its connection's state. Returns false
// when the replay failed (the decoder's state is then unusable).
bool load_context(Decoder& dec, const capture::Record& rec, const std::filesystem::path& path) {
    if (path.empty() || is_udp(rec)) return true;
    const std::string fname = path.filename().string();
    const auto sep = fname.find("__");
    if (sep == std::string::npos || sep == 0) return true;
    const std::string session_name = fname.substr(0, sep) + ".session.txt";
    std::filesystem::path session;
    std::error_code ec;
    for (const auto& cand : {path.parent_path().parent_path() / "sessions" / session_name,
                             path.parent_path() / session_name}) {
        if (std::filesystem::is_regular_file(cand, ec)) {
            session = cand;
            break;
        }
    }
    if (session.empty()) return true;
    std::vector<capture::Record> recs;
    try {
        recs = capture::parse_file(session);
    } catch (const std::exception& e) {
        dec.note(std::string("no session context: ") + e.what());
        return true;
    }
    const std::string index = field_or(rec, "index", "");
    const std::string stream = field_or(rec, "tcp_stream", "0");
    std::size_t at = recs.size();
    for (std::size_t i = 0; i < recs.size(); ++i)
        if (field_or(recs[i], "index", std::to_string(i)) == index) {
            at = i;
            break;
        }
    if (at == recs.size() || recs[at].bytes != rec.bytes) {
        dec.note("no session context: " + session.string() + " has no record index " + index + " with these bytes");
        return true;
    }
    dec.silent = true;
    std::size_t replayed = 0;
    for (std::size_t i = 0; i < at; ++i) {
        if (is_udp(recs[i]) || field_or(recs[i], "tcp_stream", "0") != stream) continue;
        decode_record(dec, recs[i], i);
        ++replayed;
    }
    dec.silent = false;
    if (dec.failed() || dec.broken(stream)) {
        dec.note("context from " + session.string() + " did not replay cleanly; decoding without it");
        return false;
    }
    dec.note("context from " + session.string() + ": replayed " + std::to_string(replayed) +
             " earlier message(s) of tcp stream " + stream);
    return true;
}

int decode_capture(const DecodeOptions& opt, const std::string& text, const std::string& name,
                   const std::filesystem::path& path, std::ostream& out, std::ostream& err) {
    std::vector<capture::Record> recs;
    try {
        std::istringstream in(text);
        recs = capture::parse_stream(in, name);
    } catch (const std::exception& e) {
        err << "error: " << e.what() << "\n";
        return 1;
    }
    if (recs.empty()) {
        err << "error: " << name << ": no [message] records\n";
        return 1;
    }
    for (const bool with_context : {opt.context && recs.size() == 1, false}) {
        Decoder dec(opt, out, err, name);
        if (with_context && !load_context(dec, recs[0], path)) continue;  // start over without
        for (std::size_t i = 0; i < recs.size(); ++i) decode_record(dec, recs[i], i);
        dec.finish();
        return dec.failed() ? 1 : 0;
    }
    return 1;  // not reached
}

// ---- hex text and raw bytes -----------------------------------------------------------------

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Whitespace (or comma) separated hex: "ca 02 00 01", "0xca,0x02", "ca020001"; '#' starts a
// comment to the end of the line.
bool parse_hex(const std::string& text, std::vector<std::uint8_t>& bytes, std::string& why) {
    std::istringstream in(text);
    std::string line;
    std::size_t lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
        std::size_t i = 0;
        while (i < line.size()) {
            const char c = line[i];
            if (c == ' ' || c == '\t' || c == '\r' || c == ',' || c == '\f' || c == '\v') {
                ++i;
                continue;
            }
            std::size_t j = i;
            while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r' && line[j] != ',' &&
                   line[j] != '\f' && line[j] != '\v')
                ++j;
            std::string_view tok(line.data() + i, j - i);
            const std::size_t col = i + 1;
            if (tok.size() >= 2 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X')) tok.remove_prefix(2);
            auto bad = [&](const std::string& what) {
                std::string shown(line.data() + i, std::min<std::size_t>(j - i, 40));
                why = "line " + std::to_string(lineno) + ", column " + std::to_string(col) + ": " + what + " '" +
                      shown + "'";
                return false;
            };
            if (tok.empty()) return bad("no hex digits in");
            for (char d : tok)
                if (hex_digit(d) < 0) return bad("not hex:");
            if (tok.size() % 2) return bad("odd number of hex digits in");
            for (std::size_t k = 0; k < tok.size(); k += 2)
                bytes.push_back(std::uint8_t(hex_digit(tok[k]) * 16 + hex_digit(tok[k + 1])));
            i = j;
        }
    }
    return true;
}

// A byte stream of concatenated messages, decoded as one connection.
int decode_bytes(const DecodeOptions& opt, const std::vector<std::uint8_t>& bytes, const std::string& name,
                 const char* transport, std::ostream& out, std::ostream& err) {
    Decoder dec(opt, out, err, name);
    if (bytes.empty()) {
        dec.error("no message bytes");
        return 1;
    }
    const Limits limits;
    std::size_t pos = 0, n = 0;
    for (; pos < bytes.size(); ++n) {
        const auto rest = as_bytes(bytes).subspan(pos);
        Diagnostic diag;
        const std::size_t len = ConnectionCodec::frame_length(rest, limits, diag);
        const std::string at = "message #" + std::to_string(n) + " at byte " + std::to_string(pos);
        if (diag) {
            dec.error(at + ": " + diag.message());
            break;
        }
        if (len == 0) {
            dec.error(at + ": truncated: " + std::to_string(rest.size()) + " byte(s) left, a header needs 8");
            break;
        }
        if (len > rest.size()) {
            dec.error(at + ": truncated: the header says " + std::to_string(len) + " bytes, only " +
                      std::to_string(rest.size()) + " left");
            break;
        }
        Origin o;
        o.index = std::to_string(n);
        o.transport = transport;
        o.bytes = len;
        dec.tcp("", rest.first(len), o);
        if (dec.broken("")) {
            pos += len;
            if (pos < bytes.size()) dec.note("the rest of the input (" + std::to_string(bytes.size() - pos) +
                                             " bytes) not decoded after the error");
            break;
        }
        pos += len;
    }
    dec.finish();
    return dec.failed() ? 1 : 0;
}

bool is_capture_text(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line == "[message]") return true;
    }
    return false;
}

}  // namespace

int decode_text(const DecodeOptions& opt, const std::string& text, const std::string& name,
                const std::filesystem::path& path, std::ostream& out, std::ostream& err, bool label_input) {
    if (label_input && !opt.quiet && opt.format != DecodeOptions::Format::Json) out << "==> " << name << " <==\n";
    if (!text.empty() && static_cast<unsigned char>(text[0]) == magic) {
        const std::vector<std::uint8_t> bytes(text.begin(), text.end());
        return decode_bytes(opt, bytes, name, "raw", out, err);
    }
    if (is_capture_text(text)) return decode_capture(opt, text, name, path, out, err);
    std::vector<std::uint8_t> bytes;
    std::string why;
    if (!parse_hex(text, bytes, why)) {
        err << "error: " << name << ": neither capture text ([message] records) nor hex: " << why << "\n";
        return 1;
    }
    return decode_bytes(opt, bytes, name, "hex", out, err);
}

int run_decode(const DecodeOptions& opt, const std::vector<std::string>& inputs, std::istream& in,
               std::ostream& out, std::ostream& err) {
    std::vector<std::string> names = inputs;
    if (names.empty()) names.push_back("-");
    int status = 0;
    for (const auto& name : names) {
        std::string text;
        std::filesystem::path path;
        if (name == "-") {
            text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        } else {
            path = name;
            std::error_code ec;
            if (std::filesystem::is_directory(path, ec)) {
                err << "error: " << name << ": is a directory\n";
                status = 1;
                continue;
            }
            std::ifstream f(path, std::ios::binary);
            if (!f) {
                err << "error: " << name << ": cannot open\n";
                status = 1;
                continue;
            }
            text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
            if (f.bad()) {
                err << "error: " << name << ": read error\n";
                status = 1;
                continue;
            }
        }
        const std::string label = name == "-" ? "<stdin>" : name;
        try {
            if (decode_text(opt, text, label, path, out, err, names.size() > 1) != 0) status = 1;
        } catch (const std::exception& e) {
            err << "error: " << label << ": " << e.what() << "\n";
            status = 1;
        }
    }
    out.flush();
    return status;
}

void register_decode(CLI::App& app) {
    auto opt = std::make_shared<DecodeOptions>();
    auto files = std::make_shared<std::vector<std::string>>();
    auto* sub = app.add_subcommand("decode", "Decode pvAccess messages (protocol dissector)");
    sub->footer(
        "Input (auto-detected): capture text files with [message] records (tests/vectors), hex\n"
        "('ca 02 40 ...', '0xca,0x02', 'ca0240...', '#' comments), or raw message bytes.\n"
        "TCP records are decoded per tcp_stream (type cache, segments); UDP records alone.\n"
        "A hex/raw stream may hold several messages and is decoded as one connection.\n"
        "A single-message file NAME__*.txt is decoded after replaying ../sessions/NAME.session.txt\n"
        "up to it, when that file exists (--no-context: do not).\n"
        "Exit status: 0 when every message decoded, 1 otherwise.");
    sub->add_option("files", *files, "Input files; none or '-': standard input")->type_name("FILE");
    sub->add_flag_callback("--summary", [opt] { opt->format = DecodeOptions::Format::Summary; },
                           "One line per message: index, direction, transport, fields");
    sub->add_flag_callback("--json", [opt] { opt->format = DecodeOptions::Format::Json; },
                           "One JSON object per line per message");
    sub->add_flag("--types", opt->types, "Also print type descriptions with byte offsets and cache keys");
    sub->add_option("-#,--max-elements", opt->max_elements, "Scalar array elements printed in dumps (0: all)")
        ->capture_default_str();
    sub->add_flag("-q,--quiet", opt->quiet, "Print errors only");
    sub->add_flag_callback("--no-context", [opt] { opt->context = false; },
                           "Do not load the session of a single-message capture file");
    sub->callback([opt, files] {
        const int status = run_decode(*opt, *files, std::cin, std::cout, std::cerr);
        if (status != 0) throw CLI::RuntimeError(status);
    });
}

}  // namespace pvwire::tool

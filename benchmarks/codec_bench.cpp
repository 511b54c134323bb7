// Codec micro-benchmarks: encode and decode of typical pvData values, bare (value codec) and as
// a whole GET EXEC response through wire::decode, each compared with a plain memcpy of the
// same number of bytes.
//
// Counters:
//   bytes_per_second  wire bytes of the value (or of the whole message) per second
//   vs_memcpy         (wall-clock) time of a memcpy of that many bytes / time of one iteration:
//                     1.0 = as fast as memcpy, 0.5 = half its speed, > 1 = faster (zero-copy
//                     paths copy nothing)
//   wire_bytes        size of the encoded value / message
// See benchmarks/README.md.
#include <benchmark/benchmark.h>

#include <pvwire/data/nt.hpp>
#include <pvwire/wire/message.hpp>
#include <pvwire/wire/value_codec.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace pvwire;
using namespace pvwire::wire;

namespace {

// ---- memcpy reference ---------------------------------------------------------------------

// Seconds one memcpy of n bytes takes (warm buffers; the median of several batch means), cached
// per n.
double memcpy_seconds(std::size_t n) {
    static std::map<std::size_t, double> cache;
    if (auto it = cache.find(n); it != cache.end()) return it->second;
    std::vector<std::byte> src(std::max<std::size_t>(n, 1), std::byte{1}), dst(src.size());
    using clock = std::chrono::steady_clock;
    std::vector<double> batches;
    for (int round = 0; round < 9; ++round) {
        std::size_t reps = 0;
        const auto t0 = clock::now();
        auto t1 = t0;
        do {
            for (int k = 0; k < 8; ++k, ++reps) {
                std::memcpy(dst.data(), src.data(), n);
                benchmark::DoNotOptimize(dst.data());
                benchmark::ClobberMemory();
            }
            t1 = clock::now();
        } while (t1 - t0 < std::chrono::milliseconds(20));
        batches.push_back(std::chrono::duration<double>(t1 - t0).count() / double(reps));
    }
    std::sort(batches.begin(), batches.end());
    return cache[n] = batches[batches.size() / 2];
}

// Wall-clock time of one benchmark loop (started right before `for (auto _ : state)`).
struct Stopwatch {
    std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
    double seconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
};

// Sets bytes/s, the wire size and vs_memcpy = memcpy time of `bytes` / time of one iteration.
void report(benchmark::State& state, std::size_t bytes, const Stopwatch& sw) {
    const double elapsed = sw.seconds();
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(bytes));
    state.counters["wire_bytes"] = double(bytes);
    if (state.iterations() > 0 && elapsed > 0)
        state.counters["vs_memcpy"] = memcpy_seconds(bytes) * double(state.iterations()) / elapsed;
}

void BM_Memcpy(benchmark::State& state) {
    const std::size_t n = std::size_t(state.range(0));
    std::vector<std::byte> src(n, std::byte{1}), dst(n);
    const Stopwatch sw;
    for (auto _ : state) {
        std::memcpy(dst.data(), src.data(), n);
        benchmark::DoNotOptimize(dst.data());
        benchmark::ClobberMemory();
    }
    report(state, n, sw);
}

// ---- fixtures -----------------------------------------------------------------------------

struct Fixture {
    std::string name;
    Value value;                    // the full value
    BitSet partial_bits;            // for the bare partial benchmarks
    std::vector<std::byte> full;    // encode_value bytes
    std::vector<std::byte> partial; // encode_partial(partial_bits) bytes
};

std::vector<std::byte> encode_full(const Value& v) {
    OutBuffer out;
    Writer w(out, host_order());
    encode_value(w, v, nullptr);
    return out.flatten();
}
std::vector<std::byte> encode_part(const Value& v, const BitSet& bits) {
    OutBuffer out;
    Writer w(out, host_order());
    encode_partial(w, v, bits, nullptr);
    return out.flatten();
}

void finish(Fixture& f) {
    f.full = encode_full(f.value);
    f.partial = encode_part(f.value, f.partial_bits);
}

const Fixture& nt_scalar() {
    static const Fixture f = [] {
        Fixture f;
        f.name = "NTScalar";
        f.value = nt::NTScalar{}.create();
        f.value["value"] = 3.25;
        nt::set_alarm(f.value["alarm"], 1, 2, "HIGH");
        f.value["timeStamp.secondsPastEpoch"] = std::int64_t(1700000000);
        f.value["timeStamp.nanoseconds"] = 123456789;
        f.partial_bits = BitSet{std::size_t(*f.value.type().offset_of("value"))};
        finish(f);
        return f;
    }();
    return f;
}

constexpr std::size_t big_n = 1u << 20;  // 1M doubles

const Fixture& nt_array() {
    static const Fixture f = [] {
        Fixture f;
        f.name = "NTScalarArray";
        f.value = nt::NTScalarArray{}.create();
        std::vector<double> d(big_n);
        for (std::size_t i = 0; i < big_n; ++i) d[i] = double(i) * 0.5;
        f.value["value"].set_array(SharedArray::from(std::move(d)));
        f.partial_bits = BitSet{std::size_t(*f.value.type().offset_of("value"))};
        finish(f);
        return f;
    }();
    return f;
}

const Fixture& nt_table() {
    static const Fixture f = [] {
        Fixture f;
        f.name = "NTTable";
        nt::NTTable tb;
        const TypeCode codes[10] = {TypeCode::Float64, TypeCode::Int32,  TypeCode::String, TypeCode::Float64,
                                    TypeCode::Int32,   TypeCode::String, TypeCode::Float64, TypeCode::Int32,
                                    TypeCode::String,  TypeCode::Float64};
        for (int c = 0; c < 10; ++c) tb.add_column(codes[c], "col" + std::to_string(c));
        f.value = tb.create();
        constexpr std::size_t rows = 1000;
        for (int c = 0; c < 10; ++c) {
            Value col = f.value["value"].member(std::size_t(c));
            if (codes[c] == TypeCode::Float64) {
                std::vector<double> v(rows);
                for (std::size_t i = 0; i < rows; ++i) v[i] = double(i) * 1.5 + c;
                col.set_array(SharedArray::from(std::move(v)));
            } else if (codes[c] == TypeCode::Int32) {
                std::vector<std::int32_t> v(rows);
                for (std::size_t i = 0; i < rows; ++i) v[i] = std::int32_t(i * 7 + std::size_t(c));
                col.set_array(SharedArray::from(std::move(v)));
            } else {
                std::vector<std::string> v(rows);
                for (std::size_t i = 0; i < rows; ++i) v[i] = "row-" + std::to_string(i) + "-c" + std::to_string(c);
                col.set_array(SharedArray::from(std::move(v)));
            }
        }
        f.partial_bits = BitSet{std::size_t(*f.value.type().offset_of("value"))};
        finish(f);
        return f;
    }();
    return f;
}

// depth 15: level k = structure { double a; int b; string c; structure next (level k+1) }
TypePtr deep_type(int level, int depth) {
    std::vector<Member> m{
        {"a", TypeDesc::scalar(TypeCode::Float64)},
        {"b", TypeDesc::scalar(TypeCode::Int32)},
        {"c", TypeDesc::scalar(TypeCode::String)},
    };
    if (level + 1 < depth) m.push_back({"next", deep_type(level + 1, depth)});
    return TypeDesc::structure("level" + std::to_string(level), std::move(m));
}

const Fixture& deep() {
    static const Fixture f = [] {
        Fixture f;
        f.name = "Deep15";
        f.value = Value(deep_type(0, 15));
        std::string path;
        for (int k = 0; k < 15; ++k) {
            f.value[path + "a"] = 1.5 * k;
            f.value[path + "b"] = k;
            f.value[path + "c"] = "level " + std::to_string(k);
            path += "next.";
        }
        f.partial_bits = BitSet{std::size_t(*f.value.type().offset_of("next.next.next.a"))};
        finish(f);
        return f;
    }();
    return f;
}

// A byte buffer owned by a shared_ptr (for zero-copy views), with `bytes` placed so that the
// byte at `align_at` is 8-byte aligned.
struct OwnedBytes {
    std::shared_ptr<std::vector<std::byte>> buf;
    std::span<const std::byte> data;
};
OwnedBytes owned(const std::vector<std::byte>& bytes, std::size_t align_at) {
    OwnedBytes o;
    o.buf = std::make_shared<std::vector<std::byte>>(bytes.size() + 16);
    const auto base = reinterpret_cast<std::uintptr_t>(o.buf->data());
    std::size_t shift = (8 - (base + align_at) % 8) % 8;
    std::memcpy(o.buf->data() + shift, bytes.data(), bytes.size());
    o.data = std::span<const std::byte>(o.buf->data() + shift, bytes.size());
    return o;
}

// Offset of the first array element in the encoded full value of nt_array(): the value
// field comes first, as Size (0xFE + 4 bytes) then the elements.
constexpr std::size_t array_payload_in_value = 5;

// ---- bare value codec ---------------------------------------------------------------------

void BM_EncodeValue(benchmark::State& state, const Fixture& (*fx)()) {
    const Fixture& f = fx();
    OutBuffer out;
    const Stopwatch sw;
    for (auto _ : state) {
        out.clear();
        Writer w(out, host_order());
        encode_value(w, f.value, nullptr);
        benchmark::DoNotOptimize(out.bytes().data());
    }
    report(state, f.full.size(), sw);
}

void BM_EncodePartial(benchmark::State& state, const Fixture& (*fx)()) {
    const Fixture& f = fx();
    OutBuffer out;
    const Stopwatch sw;
    for (auto _ : state) {
        out.clear();
        Writer w(out, host_order());
        encode_partial(w, f.value, f.partial_bits, nullptr);
        benchmark::DoNotOptimize(out.bytes().data());
    }
    report(state, f.partial.size(), sw);
}

// Decodes into a reused Value (a monitor client keeps one per subscription).
void BM_DecodeValue(benchmark::State& state, const Fixture& (*fx)()) {
    const Fixture& f = fx();
    Value v(f.value.type_ptr());
    const Stopwatch sw;
    for (auto _ : state) {
        Reader r(f.full, host_order());
        if (!decode_value(r, v, nullptr)) state.SkipWithError("decode failed");
        benchmark::DoNotOptimize(v.store());
    }
    report(state, f.full.size(), sw);
}

void BM_DecodePartial(benchmark::State& state, const Fixture& (*fx)()) {
    const Fixture& f = fx();
    Value v(f.value.type_ptr());
    BitSet changed;
    const Stopwatch sw;
    for (auto _ : state) {
        Reader r(f.partial, host_order());
        if (!decode_partial(r, v, changed, nullptr)) state.SkipWithError("decode failed");
        benchmark::DoNotOptimize(v.store());
    }
    report(state, f.partial.size(), sw);
}

// ---- the 1M-double array ------------------------------------------------------------------

// Encode with the array referenced (scatter-gather, EncodeOptions default threshold).
void BM_Array_EncodeRef(benchmark::State& state) {
    const Fixture& f = nt_array();
    OutBuffer out;
    const Stopwatch sw;
    for (auto _ : state) {
        out.clear();
        Writer w(out, host_order());
        encode_value(w, f.value, nullptr);
        benchmark::DoNotOptimize(out.bytes().data());
    }
    if (out.external_count() != 1) state.SkipWithError("array was not referenced");
    report(state, f.full.size(), sw);
}

// Encode with the array referenced, then flattened into one contiguous buffer.
void BM_Array_EncodeRefFlatten(benchmark::State& state) {
    const Fixture& f = nt_array();
    OutBuffer out;
    const Stopwatch sw;
    for (auto _ : state) {
        out.clear();
        Writer w(out, host_order());
        encode_value(w, f.value, nullptr);
        auto flat = out.flatten();
        benchmark::DoNotOptimize(flat.data());
    }
    report(state, f.full.size(), sw);
}

// Encode with the array copied into the OutBuffer's own (reused) bytes.
void BM_Array_EncodeCopy(benchmark::State& state) {
    const Fixture& f = nt_array();
    EncodeOptions opts;
    opts.zero_copy_threshold = std::size_t(-1);
    OutBuffer out;
    const Stopwatch sw;
    for (auto _ : state) {
        out.clear();
        Writer w(out, host_order(), opts);
        encode_value(w, f.value, nullptr);
        benchmark::DoNotOptimize(out.bytes().data());
    }
    if (out.external_count() != 0) state.SkipWithError("array was referenced");
    report(state, f.full.size(), sw);
}

void BM_Array_DecodeZeroCopy(benchmark::State& state) {
    const Fixture& f = nt_array();
    const OwnedBytes in = owned(f.full, array_payload_in_value);
    Value v(f.value.type_ptr());
    const Stopwatch sw;
    for (auto _ : state) {
        Reader r(in.data, host_order());
        r.set_owner(in.buf);
        if (!decode_value(r, v, nullptr)) state.SkipWithError("decode failed");
        benchmark::DoNotOptimize(v.store());
    }
    if (v["value"].array().owner() != in.buf) state.SkipWithError("array was copied");
    report(state, f.full.size(), sw);
}

void BM_Array_DecodeCopy(benchmark::State& state) {
    const Fixture& f = nt_array();
    Value v(f.value.type_ptr());
    const Stopwatch sw;
    for (auto _ : state) {
        Reader r(f.full, host_order());
        if (!decode_value(r, v, nullptr)) state.SkipWithError("decode failed");
        benchmark::DoNotOptimize(v.store());
    }
    report(state, f.full.size(), sw);
}

// ---- whole messages: GET EXEC response (BitSet bit 0) through wire::decode ----------------

struct GetExec {
    std::vector<std::byte> frame;  // header + body
    TypePtr type;
};

GetExec get_exec(const Fixture& f) {
    Message m;
    m.from_server = true;
    GetResponse g;
    g.ioid = 42;
    g.subcmd = 0x00;
    g.changed = BitSet{0};
    g.data = f.value;
    m.body = std::move(g);
    return GetExec{encode_to_bytes(m), f.value.type_ptr()};
}

// header (8) + ioid (4) + sub-command (1) + status (1) + BitSet {0} (2) + Size (5)
constexpr std::size_t array_payload_in_message = 8 + 4 + 1 + 1 + 2 + 5;

void message_decode(benchmark::State& state, const Fixture& f, bool zero_copy) {
    const GetExec msg = get_exec(f);
    const OwnedBytes in = owned(msg.frame, zero_copy ? array_payload_in_message : 0);
    auto h = Header::parse(in.data);
    OperationTable ops;
    ops.set(42, OperationTypes{0x0A, msg.type, nullptr});
    TypeCache cache;
    const auto body = in.data.subspan(header_size);
    bool viewed = false;
    const Stopwatch sw;
    for (auto _ : state) {
        DecodeContext ctx;
        ctx.types = &cache;
        ctx.operations = &ops;
        if (zero_copy) ctx.owner = in.buf;
        Message out;
        Diagnostic diag;
        if (!decode(*h, body, ctx, out, diag)) state.SkipWithError(diag.message().c_str());
        benchmark::DoNotOptimize(out.body);
        if (zero_copy && !viewed) {
            const Value& d = std::get<GetResponse>(out.body).data;
            viewed = d["value"].array().owner() == in.buf;
        }
    }
    if (zero_copy && !viewed) state.SkipWithError("array was copied");
    report(state, msg.frame.size(), sw);
}

void BM_MessageDecode(benchmark::State& state, const Fixture& (*fx)()) { message_decode(state, fx(), false); }
void BM_Array_MessageDecodeZeroCopy(benchmark::State& state) { message_decode(state, nt_array(), true); }
void BM_Array_MessageDecodeCopy(benchmark::State& state) { message_decode(state, nt_array(), false); }

void BM_MessageEncode(benchmark::State& state, const Fixture& (*fx)()) {
    const GetExec msg = get_exec(fx());
    Message m;
    m.from_server = true;
    GetResponse g;
    g.ioid = 42;
    g.subcmd = 0x00;
    g.changed = BitSet{0};
    g.data = fx().value;
    m.body = std::move(g);
    OutBuffer out;
    const Stopwatch sw;
    for (auto _ : state) {
        out.clear();
        encode(m, out);
        benchmark::DoNotOptimize(out.bytes().data());
    }
    report(state, msg.frame.size(), sw);
}

// ---- the hot messages: variant against typed, in both byte orders --------------------------
//
// A MONITOR update of an NTScalar double (only `value` changed), one of an NTScalarArray of
// 1000 doubles (`value` changed) and a GET EXEC reply of the whole NTScalar, each encoded and
// decoded in little- and big-endian through the variant (wire::encode(Message),
// wire::decode(..., Message&, ...)) and, where the library has them, through the typed entry
// points (wire::encode(MonitorResponse), wire::decode(..., MonitorResponse&, ...)). Built
// against a library without the typed codec, only the variant cases exist, so that the same
// file measures an older commit.

#if __has_include(<pvwire/wire/message_traits.hpp>)
#define PVWIRE_BENCH_TYPED 1
#endif

constexpr std::uint32_t hot_ioid = 7;

const Fixture& nt_array_1k() {
    static const Fixture f = [] {
        Fixture f;
        f.name = "NTScalarArray1k";
        f.value = nt::NTScalarArray{}.create();
        std::vector<double> d(1000);
        for (std::size_t i = 0; i < d.size(); ++i) d[i] = double(i) * 0.25;
        f.value["value"].set_array(SharedArray::from(std::move(d)));
        f.partial_bits = BitSet{std::size_t(*f.value.type().offset_of("value"))};
        finish(f);
        return f;
    }();
    return f;
}

// The message body of a hot case, as a Body alternative.
using HotMessage = std::variant<MonitorResponse, GetResponse>;

HotMessage monitor_update(const Fixture& f) {
    MonitorResponse m;
    m.ioid = hot_ioid;
    m.subcmd = 0x00;
    m.changed = f.partial_bits;
    m.data = f.value;
    return m;
}
HotMessage get_reply(const Fixture& f) {
    GetResponse g;
    g.ioid = hot_ioid;
    g.subcmd = 0x00;
    g.changed = BitSet{0};
    g.data = f.value;
    return g;
}

struct HotCase {
    HotMessage body;
    ByteOrder order;
};

Message as_message(const HotCase& c) {
    Message m;
    m.order = c.order;
    m.from_server = true;
    std::visit([&](const auto& b) { m.body = b; }, c.body);
    return m;
}

std::uint8_t command_of(const HotCase& c) {
    return std::uint8_t(std::holds_alternative<MonitorResponse>(c.body) ? Command::Monitor : Command::Get);
}

void BM_HotVariantEncode(benchmark::State& state, HotCase c) {
    const Message m = as_message(c);
    OutBuffer out;
    const Stopwatch sw;
    for (auto _ : state) {
        out.clear();
        encode(m, out);
        benchmark::DoNotOptimize(out.bytes().data());
    }
    report(state, out.size(), sw);
}

// Decodes the message `c` encodes, from a buffer without an owner (arrays are copied), with
// the operation's type known; `decode_one` is the variant or the typed decode.
template <class DecodeOne> void hot_decode(benchmark::State& state, const HotCase& c, DecodeOne decode_one) {
    const auto frame = encode_to_bytes(as_message(c));
    const auto h = Header::parse(frame);
    const auto body = std::span<const std::byte>(frame).subspan(header_size);
    OperationTable ops;
    const Value& data = std::visit([](const auto& b) -> const Value& { return b.data; }, c.body);
    ops.set(hot_ioid, OperationTypes{command_of(c), data.type_ptr(), nullptr});
    TypeCache cache;
    const Stopwatch sw;
    for (auto _ : state) {
        DecodeContext ctx;
        ctx.types = &cache;
        ctx.operations = &ops;
        Diagnostic diag;
        if (!decode_one(*h, body, ctx, diag)) state.SkipWithError(diag.message().c_str());
    }
    report(state, frame.size(), sw);
}

void BM_HotVariantDecode(benchmark::State& state, HotCase c) {
    hot_decode(state, c, [](const Header& h, std::span<const std::byte> body, DecodeContext& ctx, Diagnostic& diag) {
        Message out;
        const bool ok = decode(h, body, ctx, out, diag);
        benchmark::DoNotOptimize(out.body);
        return ok;
    });
}

#ifdef PVWIRE_BENCH_TYPED
void BM_HotTypedEncode(benchmark::State& state, HotCase c) {
    OutBuffer out;
    EncodeContext ctx;
    ctx.order = c.order;
    const Stopwatch sw;
    for (auto _ : state) {
        out.clear();
        std::visit([&](const auto& b) { encode(b, out, ctx); }, c.body);
        benchmark::DoNotOptimize(out.bytes().data());
    }
    report(state, out.size(), sw);
}

void BM_HotTypedDecode(benchmark::State& state, HotCase c) {
    std::visit(
        [&]<class T>(const T&) {
            hot_decode(state, c, [](const Header& h, std::span<const std::byte> body, DecodeContext& ctx, Diagnostic& diag) {
                T out;
                const bool ok = decode(h, body, ctx, out, diag);
                benchmark::DoNotOptimize(out);
                return ok;
            });
        },
        c.body);
}
#endif

void register_hot() {
    struct Named {
        const char* name;
        HotMessage body;
    };
    const Named all[] = {{"MonitorNTScalar", monitor_update(nt_scalar())},
                         {"MonitorArray1k", monitor_update(nt_array_1k())},
                         {"GetNTScalar", get_reply(nt_scalar())}};
    for (const auto& n : all) {
        for (const ByteOrder order : {ByteOrder::Little, ByteOrder::Big}) {
            const std::string p = std::string("Hot/") + n.name + (order == ByteOrder::Little ? "/LE/" : "/BE/");
            const HotCase c{n.body, order};
            benchmark::RegisterBenchmark((p + "VariantEncode").c_str(), BM_HotVariantEncode, c);
#ifdef PVWIRE_BENCH_TYPED
            benchmark::RegisterBenchmark((p + "TypedEncode").c_str(), BM_HotTypedEncode, c);
#endif
            benchmark::RegisterBenchmark((p + "VariantDecode").c_str(), BM_HotVariantDecode, c);
#ifdef PVWIRE_BENCH_TYPED
            benchmark::RegisterBenchmark((p + "TypedDecode").c_str(), BM_HotTypedDecode, c);
#endif
        }
    }
}

// ---- registration -------------------------------------------------------------------------

void register_all() {
    struct Named {
        const char* name;
        const Fixture& (*fx)();
    };
    const Named all[] = {{"NTScalar", nt_scalar}, {"NTScalarArray1M", nt_array}, {"NTTable10x1000", nt_table},
                         {"Deep15", deep}};
    for (const auto& n : all) {
        const std::string p = n.name;
        const Fixture& f = n.fx();
        benchmark::RegisterBenchmark(("Memcpy/" + p + "/value").c_str(), BM_Memcpy)->Arg(std::int64_t(f.full.size()));
        benchmark::RegisterBenchmark(("Memcpy/" + p + "/message").c_str(), BM_Memcpy)
            ->Arg(std::int64_t(get_exec(f).frame.size()));
        if (n.fx != nt_array) {
            benchmark::RegisterBenchmark((p + "/EncodeValue").c_str(), BM_EncodeValue, n.fx);
            benchmark::RegisterBenchmark((p + "/DecodeValue").c_str(), BM_DecodeValue, n.fx);
        }
        benchmark::RegisterBenchmark((p + "/EncodePartial").c_str(), BM_EncodePartial, n.fx);
        benchmark::RegisterBenchmark((p + "/DecodePartial").c_str(), BM_DecodePartial, n.fx);
        benchmark::RegisterBenchmark((p + "/MessageEncode").c_str(), BM_MessageEncode, n.fx);
        if (n.fx != nt_array) benchmark::RegisterBenchmark((p + "/MessageDecode").c_str(), BM_MessageDecode, n.fx);
    }
    benchmark::RegisterBenchmark("NTScalarArray1M/EncodeValueRef", BM_Array_EncodeRef);
    benchmark::RegisterBenchmark("NTScalarArray1M/EncodeValueRefFlatten", BM_Array_EncodeRefFlatten);
    benchmark::RegisterBenchmark("NTScalarArray1M/EncodeValueCopy", BM_Array_EncodeCopy);
    benchmark::RegisterBenchmark("NTScalarArray1M/DecodeValueZeroCopy", BM_Array_DecodeZeroCopy);
    benchmark::RegisterBenchmark("NTScalarArray1M/DecodeValueCopy", BM_Array_DecodeCopy);
    benchmark::RegisterBenchmark("NTScalarArray1M/MessageDecodeZeroCopy", BM_Array_MessageDecodeZeroCopy);
    benchmark::RegisterBenchmark("NTScalarArray1M/MessageDecodeCopy", BM_Array_MessageDecodeCopy);
    register_hot();
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    register_all();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

// Instruction-count driver for codec_bench's existing value cases: runs one N times.
#include <pvwire/data/nt.hpp>
#include <pvwire/wire/message.hpp>
#include <pvwire/wire/value_codec.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
using namespace pvwire;
using namespace pvwire::wire;

static Value scalar() {
    Value v = nt::NTScalar{}.create();
    v["value"] = 3.25;
    nt::set_alarm(v["alarm"], 1, 2, "HIGH");
    v["timeStamp.secondsPastEpoch"] = std::int64_t(1700000000);
    return v;
}
static Value table() {
    nt::NTTable tb;
    const TypeCode codes[10] = {TypeCode::Float64, TypeCode::Int32, TypeCode::String, TypeCode::Float64, TypeCode::Int32,
                                TypeCode::String, TypeCode::Float64, TypeCode::Int32, TypeCode::String, TypeCode::Float64};
    for (int c = 0; c < 10; ++c) tb.add_column(codes[c], "col" + std::to_string(c));
    Value v = tb.create();
    for (int c = 0; c < 10; ++c) {
        Value col = v["value"].member(std::size_t(c));
        if (codes[c] == TypeCode::Float64) { std::vector<double> x(1000, 1.5 + c); col.set_array(SharedArray::from(std::move(x))); }
        else if (codes[c] == TypeCode::Int32) { std::vector<std::int32_t> x(1000, 7 + c); col.set_array(SharedArray::from(std::move(x))); }
        else { std::vector<std::string> x(1000); for (std::size_t i = 0; i < 1000; ++i) x[i] = "row-" + std::to_string(i); col.set_array(SharedArray::from(std::move(x))); }
    }
    return v;
}
static TypePtr deep_type(int level, int depth) {
    std::vector<Member> m{{"a", TypeDesc::scalar(TypeCode::Float64)}, {"b", TypeDesc::scalar(TypeCode::Int32)}, {"c", TypeDesc::scalar(TypeCode::String)}};
    if (level + 1 < depth) m.push_back({"next", deep_type(level + 1, depth)});
    return TypeDesc::structure("level" + std::to_string(level), std::move(m));
}
static Value deep() {
    Value v(deep_type(0, 15));
    std::string path;
    for (int k = 0; k < 15; ++k) { v[path + "a"] = 1.5 * k; v[path + "b"] = k; v[path + "c"] = "level " + std::to_string(k); path += "next."; }
    return v;
}

int main(int argc, char** argv) {
    const std::string fx = argv[1], op = argv[2];
    const long n = std::atol(argv[3]);
    const Value v = fx == "NTTable" ? table() : fx == "Deep15" ? deep() : scalar();
    const BitSet bits{fx == "Deep15" ? std::size_t(*v.type().offset_of("next.next.next.a")) : std::size_t(*v.type().offset_of("value"))};
    OutBuffer o1; { Writer w(o1, host_order()); encode_value(w, v, nullptr); }
    const auto full = o1.flatten();
    OutBuffer o2; { Writer w(o2, host_order()); encode_partial(w, v, bits, nullptr); }
    const auto part = o2.flatten();
    Message m; m.from_server = true; GetResponse g; g.ioid = 42; g.subcmd = 0; g.changed = BitSet{0}; g.data = v; m.body = g;
    const auto frame = encode_to_bytes(m);
    const auto h = Header::parse(frame);
    OperationTable ops; ops.set(42, OperationTypes{0x0A, v.type_ptr(), nullptr});
    TypeCache cache;
    Value back(v.type_ptr());
    BitSet changed;
    OutBuffer out;
    std::size_t sink = 0;
    for (long i = 0; i < n; ++i) {
        if (op == "EncodeValue") { out.clear(); Writer w(out, host_order()); encode_value(w, v, nullptr); sink += out.size(); }
        else if (op == "EncodePartial") { out.clear(); Writer w(out, host_order()); encode_partial(w, v, bits, nullptr); sink += out.size(); }
        else if (op == "DecodeValue") { Reader r(full, host_order()); sink += decode_value(r, back, nullptr); }
        else if (op == "DecodePartial") { Reader r(part, host_order()); sink += decode_partial(r, back, changed, nullptr); }
        else if (op == "MessageEncode") { out.clear(); encode(m, out); sink += out.size(); }
        else { DecodeContext ctx; ctx.types = &cache; ctx.operations = &ops; Message o; Diagnostic d; sink += decode(*h, std::span<const std::byte>(frame).subspan(8), ctx, o, d); }
    }
    std::printf("%zu\n", sink);
}

// Instruction-count driver: runs one hot case N times (valgrind --tool=callgrind counts).
#include <pvwire/data/nt.hpp>
#include <pvwire/wire/message.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#if __has_include(<pvwire/wire/message_traits.hpp>)
#define TYPED 1
#endif
using namespace pvwire;
using namespace pvwire::wire;

static Value scalar() {
    Value v = nt::NTScalar{}.create();
    v["value"] = 3.25;
    nt::set_alarm(v["alarm"], 1, 2, "HIGH");
    v["timeStamp.secondsPastEpoch"] = std::int64_t(1700000000);
    v["timeStamp.nanoseconds"] = 123456789;
    return v;
}
static Value array1k() {
    Value v = nt::NTScalarArray{}.create();
    std::vector<double> d(1000);
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = double(i) * 0.25;
    v["value"].set_array(SharedArray::from(std::move(d)));
    return v;
}

int main(int argc, char** argv) {
    const std::string msg = argv[1], order_s = argv[2], op = argv[3], path = argv[4];
    const long n = std::atol(argv[5]);
    const ByteOrder order = order_s == "BE" ? ByteOrder::Big : ByteOrder::Little;
    Value data = msg == "MonitorArray1k" ? array1k() : scalar();
    const BitSet value_bit{std::size_t(*data.type().offset_of("value"))};
    Message m;
    m.order = order;
    m.from_server = true;
    MonitorResponse mon;
    GetResponse get;
    const bool is_get = msg == "GetNTScalar";
    if (is_get) {
        get.ioid = 7; get.subcmd = 0; get.changed = BitSet{0}; get.data = data; m.body = get;
    } else {
        mon.ioid = 7; mon.subcmd = 0; mon.changed = value_bit; mon.data = data; m.body = mon;
    }
    const auto frame = encode_to_bytes(m);
    const auto h = Header::parse(frame);
    const auto body = std::span<const std::byte>(frame).subspan(header_size);
    OperationTable ops;
    ops.set(7, OperationTypes{std::uint8_t(is_get ? Command::Get : Command::Monitor), data.type_ptr(), nullptr});
    TypeCache cache;
    OutBuffer out;
    std::size_t sink = 0;
    for (long i = 0; i < n; ++i) {
        if (op == "Encode") {
            out.clear();
            if (path == "Variant") encode(m, out);
#ifdef TYPED
            else {
                EncodeContext ctx;
                ctx.order = order;
                if (is_get) encode(get, out, ctx); else encode(mon, out, ctx);
            }
#endif
            sink += out.size();
        } else {
            DecodeContext ctx;
            ctx.types = &cache;
            ctx.operations = &ops;
            Diagnostic diag;
            bool ok = false;
            if (path == "Variant") { Message o; ok = decode(*h, body, ctx, o, diag); sink += o.body.index(); }
#ifdef TYPED
            else if (is_get) { GetResponse o; ok = decode(*h, body, ctx, o, diag); sink += o.ioid; }
            else { MonitorResponse o; ok = decode(*h, body, ctx, o, diag); sink += o.ioid; }
#endif
            if (!ok) { std::puts(diag.message().c_str()); return 1; }
        }
    }
    std::printf("%zu\n", sink);
}

// The typed codec: wire::encode<D>(msg) and wire::decode(header, body, ctx, T&, diag) beside the
// variant Message. Every message struct round-trips in both byte orders and every direction it
// travels, with the same bytes as the variant path; the header is checked against the type.
#include <catch2/catch.hpp>

#include <pvwire/data/nt.hpp>
#include <pvwire/wire/message.hpp>

#include <set>

using namespace pvwire;
using namespace pvwire::wire;

namespace {

const std::uint32_t get_ioid = 1, put_ioid = 2, put_get_ioid = 3, monitor_ioid = 4, array_ioid = 5;

TypePtr scalar_type() {
    static const TypePtr t = nt::NTScalar{TypeCode::Float64}.create().type_ptr();
    return t;
}
Value scalar_value(double v) {
    Value x(scalar_type());
    x["value"] = v;
    x["alarm.message"] = "HIGH";
    return x;
}
BitSet value_bit() { return BitSet{std::size_t(*scalar_type()->offset_of("value"))}; }
TypePtr array_type() { return TypeDesc::array(TypeCode::Float64); }
Value array_value() {
    Value a(array_type());
    a.set_array(SharedArray::from(std::vector<double>{1.5, -2.25, 1e300}));
    return a;
}

// The operations whose INIT replies a client has seen, so that their data can be decoded.
void seed(OperationTable& ops) {
    ops.set(get_ioid, OperationTypes{std::uint8_t(Command::Get), scalar_type()});
    ops.set(put_ioid, OperationTypes{std::uint8_t(Command::Put), scalar_type()});
    ops.set(put_get_ioid, OperationTypes{std::uint8_t(Command::PutGet), scalar_type(), scalar_type()});
    ops.set(monitor_ioid, OperationTypes{std::uint8_t(Command::Monitor), scalar_type()});
    ops.set(array_ioid, OperationTypes{std::uint8_t(Command::Array), array_type()});
}

template <class M> M with_subcmd(std::uint32_t ioid, std::uint8_t sub) {
    M m;
    m.ioid = ioid;
    m.subcmd = sub;
    if constexpr (std::is_base_of_v<OperationRequest, M>) m.sid = 77;
    return m;
}

// One message of every alternative of Body, with its fields away from their defaults.
std::vector<Body> every_message() {
    std::vector<Body> all;
    all.push_back(Control{ControlCommand::SetByteOrder, 0x12345678});
    Beacon beacon;
    beacon.guid.bytes[0] = 0xAB;
    beacon.sequence = 3;
    beacon.server_address = Address::ipv4(10, 0, 0, 1);
    all.push_back(beacon);
    all.push_back(ValidationRequest{0x4000, 0x100, {"anonymous", "ca", "x509"}});
    ValidationResponse validation;
    validation.auth_method = "ca";
    validation.auth_data = scalar_value(1.0);
    all.push_back(validation);
    all.push_back(Echo{{std::byte{1}, std::byte{2}, std::byte{3}}});
    Search search;
    search.sequence = 0x01020304;
    search.flags = Search::reply_required;
    search.response_port = 5076;
    search.channels = {{1, "pv:one"}, {2, "pv:two"}};
    all.push_back(search);
    SearchResponse found;
    found.sequence = 0x01020304;
    found.server_port = 5075;
    found.found = true;
    found.cids = {1, 2};
    all.push_back(found);
    all.push_back(AuthNZ{scalar_value(2.0)});
    all.push_back(AclChange{{std::byte{9}}});
    all.push_back(CreateChannelRequest{{{7, "pv:one"}}});
    all.push_back(CreateChannelResponse{7, 9, Status::warning("slow")});
    all.push_back(DestroyChannel{9, 7});
    all.push_back(ConnectionValidated{Status::error("no")});
    auto get = with_subcmd<GetRequest>(get_ioid, subcmd::init);
    get.pv_request = scalar_value(0.0);
    all.push_back(get);
    auto got = with_subcmd<GetResponse>(get_ioid, subcmd::exec);
    got.changed = value_bit();
    got.data = scalar_value(3.25);
    all.push_back(got);
    auto put = with_subcmd<PutRequest>(put_ioid, subcmd::exec);
    put.changed = value_bit();
    put.data = scalar_value(4.5);
    all.push_back(put);
    auto put_init = with_subcmd<PutResponse>(put_ioid, subcmd::init);
    put_init.type = scalar_type();
    all.push_back(put_init);
    auto put_get = with_subcmd<PutGetRequest>(put_get_ioid, subcmd::exec);
    put_get.changed = value_bit();
    put_get.data = scalar_value(5.0);
    all.push_back(put_get);
    auto put_got = with_subcmd<PutGetResponse>(put_get_ioid, subcmd::get);
    put_got.changed = value_bit();
    put_got.data = scalar_value(6.0);
    all.push_back(put_got);
    auto ack = with_subcmd<MonitorRequest>(monitor_ioid, subcmd::get_put);
    ack.nfree = 4;
    all.push_back(ack);
    auto update = with_subcmd<MonitorResponse>(monitor_ioid, subcmd::exec);
    update.changed = value_bit();
    update.data = scalar_value(7.0);
    update.overrun = value_bit();
    all.push_back(update);
    auto array_get = with_subcmd<ArrayRequest>(array_ioid, subcmd::get);
    array_get.offset = 1;
    array_get.count = 300;
    array_get.stride = 2;
    all.push_back(array_get);
    auto array_got = with_subcmd<ArrayResponse>(array_ioid, subcmd::get);
    array_got.data = array_value();
    all.push_back(array_got);
    all.push_back(DestroyRequest{77, 99});  // an ioid none of the others use: decoding forgets it
    all.push_back(with_subcmd<ProcessRequest>(8, subcmd::exec));
    all.push_back(with_subcmd<ProcessResponse>(8, subcmd::exec));
    all.push_back(GetFieldRequest{77, 10, "value"});
    all.push_back(GetFieldResponse{10, Status::ok(), scalar_type()});
    all.push_back(RemoteMessage{11, 1, "careful"});
    MultipleData multiple;
    multiple.replies.push_back(Message{protocol_version, host_order(), true, got});
    all.push_back(multiple);
    auto rpc = with_subcmd<RpcRequest>(12, subcmd::exec);
    rpc.argument = scalar_value(8.0);
    all.push_back(rpc);
    auto rpc_result = with_subcmd<RpcResponse>(12, subcmd::exec);
    rpc_result.result = scalar_value(16.0);
    all.push_back(rpc_result);
    all.push_back(CancelRequest{77, 13});
    all.push_back(OriginTag{Address::ipv4(127, 0, 0, 1)});
    return all;
}

template <Direction D, class T> std::vector<std::byte> typed_bytes(const T& msg, ByteOrder order) {
    OutBuffer out;
    EncodeContext ctx;
    ctx.order = order;
    encode<D>(msg, out, ctx);
    return out.flatten();
}

template <Direction D, class T> void check_round_trip(const T& msg, ByteOrder order) {
    INFO(message_traits<T>::name << (D == Direction::to_client ? " to the client" : " to the server")
                                 << (order == ByteOrder::Big ? ", big-endian" : ", little-endian"));
    const auto bytes = typed_bytes<D>(msg, order);
    CHECK(bytes == encode_to_bytes(Message{protocol_version, order, D == Direction::to_client, msg}));

    const auto header = Header::parse(bytes);
    REQUIRE(header);
    CHECK(header->order() == order);
    const auto body = std::span<const std::byte>(bytes).subspan(header_size);

    OperationTable ops;
    seed(ops);
    DecodeContext ctx;
    ctx.operations = &ops;
    T back;
    Diagnostic diag;
    const bool ok = decode(*header, body, ctx, back, diag);
    INFO(diag.message());
    REQUIRE(ok);
    CHECK(typed_bytes<D>(back, order) == bytes);

    OperationTable variant_ops;
    seed(variant_ops);
    DecodeContext variant_ctx;
    variant_ctx.operations = &variant_ops;
    Message variant;
    REQUIRE(decode(*header, body, variant_ctx, variant, diag));
    CHECK(std::holds_alternative<T>(variant.body));
}

template <class T> void check_every_way(const T& msg) {
    for (const ByteOrder order : {ByteOrder::Little, ByteOrder::Big}) {
        if constexpr (travels(message_traits<T>::direction, Direction::to_server))
            check_round_trip<Direction::to_server>(msg, order);
        if constexpr (travels(message_traits<T>::direction, Direction::to_client))
            check_round_trip<Direction::to_client>(msg, order);
    }
}

template <class T> Diagnostic decode_as(const std::vector<std::byte>& bytes) {
    const auto header = Header::parse(bytes);
    REQUIRE(header);
    OperationTable ops;
    seed(ops);
    DecodeContext ctx;
    ctx.operations = &ops;
    T out;
    Diagnostic diag;
    CHECK_FALSE(decode(*header, std::span<const std::byte>(bytes).subspan(header_size), ctx, out, diag));
    return diag;
}

}  // namespace

TEST_CASE("every message struct round-trips through the typed codec in both byte orders, with the variant's bytes") {
    std::set<std::size_t> covered;
    for (const Body& body : every_message()) {
        covered.insert(body.index());
        std::visit([](const auto& msg) { check_every_way(msg); }, body);
    }
    CHECK(covered.size() == std::variant_size_v<Body>);
}

TEST_CASE("a typed MONITOR update and GET reply decode to the values sent") {
    for (const ByteOrder order : {ByteOrder::Little, ByteOrder::Big}) {
        auto update = with_subcmd<MonitorResponse>(monitor_ioid, subcmd::exec);
        update.changed = value_bit();
        update.data = scalar_value(42.5);
        OutBuffer out;
        EncodeContext ectx;
        ectx.order = order;
        encode(update, out, ectx);
        const auto bytes = out.flatten();
        const auto header = Header::parse(bytes);
        REQUIRE(header);
        OperationTable ops;
        seed(ops);
        DecodeContext ctx;
        ctx.operations = &ops;
        MonitorResponse back;
        Diagnostic diag;
        REQUIRE(decode(*header, std::span<const std::byte>(bytes).subspan(header_size), ctx, back, diag));
        CHECK(back.ioid == monitor_ioid);
        CHECK(back.has_data);
        CHECK(back.changed == value_bit());
        CHECK(back.data["value"].as<double>() == 42.5);
    }
}

TEST_CASE("decoding as a type refuses a message of another command, direction or kind") {
    auto got = with_subcmd<GetResponse>(get_ioid, subcmd::exec);
    got.changed = value_bit();
    got.data = scalar_value(1.0);
    const auto bytes = typed_bytes<Direction::to_client>(got, host_order());

    CHECK(decode_as<MonitorResponse>(bytes).code == errc::unexpected_command);
    const Diagnostic wrong_way = decode_as<GetRequest>(bytes);
    CHECK(wrong_way.code == errc::bad_direction);
    CHECK(wrong_way.detail.find("GET request expected") != std::string::npos);
    CHECK(decode_as<Control>(bytes).code == errc::unexpected_command);

    const auto control = typed_bytes<Direction::to_client>(Control{ControlCommand::SetByteOrder, 0}, host_order());
    CHECK(decode_as<GetResponse>(control).code == errc::unexpected_command);
}

TEST_CASE("message traits state each message's command, direction and transport") {
    static_assert(message_traits<GetRequest>::direction == Direction::to_server);
    static_assert(message_traits<GetResponse>::direction == Direction::to_client);
    static_assert(message_traits<GetResponse>::command == Command::Get);
    static_assert(message_traits<Echo>::direction == Direction::both);
    static_assert(message_traits<Search>::transport == Transport::tcp_and_udp);
    static_assert(message_traits<Beacon>::transport == Transport::udp);
    static_assert(message_traits<MonitorRequest>::subcommands & subcmd::get_put);
    static_assert(message_traits<Echo>::subcommands == 0);
    static_assert(travels(Direction::both, Direction::to_client));
    static_assert(!travels(Direction::to_server, Direction::to_client));
    static_assert(!message_type<Message>);
    static_assert(!message_type<int>);
    CHECK(command_byte(Control{ControlCommand::EchoRequest, 0}) == 0x03);
    CHECK(command_byte(GetFieldRequest{}) == std::uint8_t(Command::GetField));
}

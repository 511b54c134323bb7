// The variant entry points, decode(..., Message&, ...) and encode(const Message&, ...): they
// dispatch by the command byte and by std::visit into MessageCodec<T> (message_coders.ipp).
#include <pvwire/wire/impl/message_coders.ipp>

namespace pvwire::wire {

// ---- the variant entry points ---------------------------------------------------------------

PVWIRE_DECL std::uint8_t Message::command() const noexcept {
    return std::visit([](const auto& m) { return command_byte(m); }, body);
}

PVWIRE_DECL bool decode(const Header& header, std::span<const std::byte> body, DecodeContext& ctx, Message& out,
                        Diagnostic& diag) {
    out.version = header.version;
    out.order = header.order();
    out.from_server = header.from_server();
    bool ok = false;
    const auto decode_as = [&]<class T>(std::type_identity<T>) {
        T m;
        ok = MessageCodec<T>::decode(header, body, ctx, m, diag);
        out.body = std::move(m);
    };
    if (header.is_control()) {
        decode_as(std::type_identity<Control>{});
        return ok;
    }
    if (!within_limits(body, ctx, diag)) return false;
    if (visit_message_type(header.command, header.from_server(), decode_as)) return ok;
    out.body = Control{};
    diag.code = make_error_code(errc::unknown_command);
    diag.offset = header_size;
    diag.field = "header";
    diag.detail = "command " + std::to_string(header.command);
    return false;
}

PVWIRE_DECL void encode(const Message& msg, OutBuffer& out, EncodeContext ctx) {
    const Framing framing{msg.order, msg.version, msg.from_server};
    std::visit([&]<class T>(const T& m) { MessageCodec<T>::encode(m, out, ctx, framing); }, msg.body);
}

PVWIRE_DECL std::vector<std::byte> encode_to_bytes(const Message& msg, EncodeContext ctx) {
    OutBuffer out;
    encode(msg, out, ctx);
    return out.flatten();
}

}  // namespace pvwire::wire

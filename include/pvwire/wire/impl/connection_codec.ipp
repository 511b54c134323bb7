#include <pvwire/wire/connection_codec.hpp>
#include <pvwire/detail/header_only.hpp>

#include <pvwire/wire/framing.hpp>

namespace pvwire::wire {

PVWIRE_DECL ConnectionCodec::Result ConnectionCodec::decode(std::span<const std::byte> frame, Message& out,
                                                Diagnostic& diag, std::shared_ptr<const void> owner,
                                                TypeTrace* trace) {
    auto header = Header::parse(frame, &diag);
    if (!header) return Result::Error;
    if (frame.size() != header_size + header->body_size()) {
        diag.code = make_error_code(errc::truncated);
        diag.offset = frame.size();
        diag.field = "frame";
        diag.detail = "frame of " + std::to_string(frame.size()) + " bytes, header says " +
                      std::to_string(header_size + header->body_size());
        return Result::Error;
    }
    Direction& dir = header->from_server() ? server_ : client_;
    std::span<const std::byte> body = frame.subspan(header_size);
    switch (dir.segments.push(*header, body, diag)) {
    case SegmentAssembler::Result::Pending: return Result::Pending;
    case SegmentAssembler::Result::Error: return Result::Error;
    case SegmentAssembler::Result::Complete: break;
    }
    DecodeContext ctx;
    ctx.types = &dir.types;
    ctx.operations = &ops_;
    ctx.limits = &limits_;
    // a joined segmented body lives in the assembler, which the next message overwrites
    if (body.data() == frame.data() + header_size) ctx.owner = std::move(owner);
    ctx.trace = trace;
    if (wire::decode(*header, body, ctx, out, diag)) return Result::Message;
    if (diag.code == make_error_code(errc::unknown_command) ||
        diag.code == make_error_code(errc::unknown_operation))
        return Result::Ignored;
    return Result::Error;
}

PVWIRE_DECL void ConnectionCodec::note_sent(const Message& msg) {
    std::visit(
        [&](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_base_of_v<OperationResponse, T>) {
                const std::uint8_t command = msg.command();
                if (m.is_init()) {
                    if (!m.status.success()) return;
                    if constexpr (std::is_same_v<T, PutGetResponse>)
                        ops_.set(m.ioid, OperationTypes{command, m.put_type, m.get_type});
                    else if constexpr (requires { m.type; })
                        ops_.set(m.ioid, OperationTypes{command, m.type, nullptr});
                } else if (m.destroys()) {
                    ops_.erase(m.ioid);
                }
            }
        },
        msg.body);
}

PVWIRE_DECL std::size_t ConnectionCodec::frame_length(std::span<const std::byte> stream, const Limits& limits,
                                          Diagnostic& diag) {
    return wire::frame_length(stream, limits.max_message_bytes, diag);
}

}  // namespace pvwire::wire

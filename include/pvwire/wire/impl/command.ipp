#include <pvwire/wire/command.hpp>
#include <pvwire/detail/header_only.hpp>

namespace pvwire::wire {

PVWIRE_DECL std::string_view command_name(std::uint8_t command) noexcept {
    switch (Command(command)) {
    case Command::Beacon: return "BEACON";
    case Command::ConnectionValidation: return "CONNECTION_VALIDATION";
    case Command::Echo: return "ECHO";
    case Command::Search: return "SEARCH";
    case Command::SearchResponse: return "SEARCH_RESPONSE";
    case Command::AuthNZ: return "AUTHNZ";
    case Command::AclChange: return "ACL_CHANGE";
    case Command::CreateChannel: return "CREATE_CHANNEL";
    case Command::DestroyChannel: return "DESTROY_CHANNEL";
    case Command::ConnectionValidated: return "CONNECTION_VALIDATED";
    case Command::Get: return "GET";
    case Command::Put: return "PUT";
    case Command::PutGet: return "PUT_GET";
    case Command::Monitor: return "MONITOR";
    case Command::Array: return "ARRAY";
    case Command::DestroyRequest: return "DESTROY_REQUEST";
    case Command::Process: return "PROCESS";
    case Command::GetField: return "GET_FIELD";
    case Command::Message: return "MESSAGE";
    case Command::MultipleData: return "MULTIPLE_DATA";
    case Command::Rpc: return "RPC";
    case Command::CancelRequest: return "CANCEL_REQUEST";
    case Command::OriginTag: return "ORIGIN_TAG";
    }
    return "UNKNOWN";
}

PVWIRE_DECL std::string_view control_name(std::uint8_t command) noexcept {
    switch (ControlCommand(command)) {
    case ControlCommand::MarkTotalBytesSent: return "MARK_TOTAL_BYTES_SENT";
    case ControlCommand::AckTotalBytesReceived: return "ACK_TOTAL_BYTES_RECEIVED";
    case ControlCommand::SetByteOrder: return "SET_BYTE_ORDER";
    case ControlCommand::EchoRequest: return "ECHO_REQUEST (control)";
    case ControlCommand::EchoResponse: return "ECHO_RESPONSE (control)";
    }
    return "UNKNOWN_CONTROL";
}

}  // namespace pvwire::wire

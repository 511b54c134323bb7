/// @file
/// message_traits<T>: what the protocol says about each message struct (protocol.md §4): its
/// command byte, which way it travels, where it travels, and the sub-command bits that select
/// its phases. The typed encode<T>/decode<T> (message.hpp) check against these at compile time,
/// and the variant path turns a header's command byte into a struct in visit_message_type, the
/// one table from command bytes to types.
///
/// "Direction" is the header's direction flag (0x40 = from the server), not the role of the
/// process: a server that forwards a SEARCH to its local multicast group sends it, with its
/// ORIGIN_TAG, as a client would (PVXS does; every forwarded search in tests/vectors/ carries
/// the client flag), so both are to_server.
#pragma once

#include <pvwire/wire/command.hpp>
#include <pvwire/wire/messages/channel.hpp>
#include <pvwire/wire/messages/connection.hpp>
#include <pvwire/wire/messages/discovery.hpp>
#include <pvwire/wire/messages/operations.hpp>

#include <cstdint>
#include <string_view>
#include <type_traits>

namespace pvwire::wire {

struct MultipleData;  // message.hpp: it holds whole Messages

/// Which way a message travels: the direction flag of its header.
enum class Direction : std::uint8_t {
    to_server = 1,  ///< sent by clients (direction flag clear)
    to_client = 2,  ///< sent by servers (direction flag set)
    both = 3,       ///< either; the flag says which
};

/// True if a message of direction `of` may travel `way`.
constexpr bool travels(Direction of, Direction way) noexcept {
    return (std::uint8_t(of) & std::uint8_t(way)) == std::uint8_t(way);
}

/// Where a message travels: TCP connections, UDP datagrams, or both.
enum class Transport : std::uint8_t { tcp = 1, udp = 2, tcp_and_udp = 3 };

/// Specialized for every message struct below; the primary template is left undefined, so that
/// anything else is not a message_type.
template <class T> struct message_traits;

/// Members of every specialization:
///   command      the command byte (Control: none; its header carries ControlCommand)
///   direction    see Direction
///   transport    TCP connections, UDP datagrams, or both
///   subcommands  the sub-command bits that mean something for this message (0: none)
///   name         for diagnostics
template <Command C, Direction D, Transport Tr = Transport::tcp, std::uint8_t Sub = 0>
struct message_traits_of {
    static constexpr Command command = C;            ///< the command byte
    static constexpr Direction direction = D;        ///< which way it travels
    static constexpr Transport transport = Tr;       ///< over TCP, UDP or both
    static constexpr std::uint8_t subcommands = Sub; ///< the sub-command bits that mean something
};

/// The sub-command bits of each operation (protocol.md §4.2, §4.11-4.18).
namespace operation_subcommands {
/// @cond MESSAGE_TRAITS_TABLE
using namespace subcmd;
inline constexpr std::uint8_t get = init | destroy;
inline constexpr std::uint8_t put = init | destroy | subcmd::get;
inline constexpr std::uint8_t put_get = init | destroy | subcmd::get | get_put;
inline constexpr std::uint8_t monitor = init | destroy | process | subcmd::get | get_put;
inline constexpr std::uint8_t array = init | destroy | process | subcmd::get | get_put;
inline constexpr std::uint8_t process = init | destroy;
inline constexpr std::uint8_t rpc = init | destroy;
/// @endcond
}  // namespace operation_subcommands

/// @cond MESSAGE_TRAITS_TABLE
template <> struct message_traits<Control> {
    static constexpr Direction direction = Direction::both;
    static constexpr Transport transport = Transport::tcp;
    static constexpr std::uint8_t subcommands = 0;
    static constexpr std::string_view name = "control";
};

template <> struct message_traits<Beacon> : message_traits_of<Command::Beacon, Direction::to_client, Transport::udp> {
    static constexpr std::string_view name = "BEACON";
};
template <> struct message_traits<ValidationRequest> : message_traits_of<Command::ConnectionValidation, Direction::to_client> {
    static constexpr std::string_view name = "CONNECTION_VALIDATION request";
};
template <> struct message_traits<ValidationResponse> : message_traits_of<Command::ConnectionValidation, Direction::to_server> {
    static constexpr std::string_view name = "CONNECTION_VALIDATION response";
};
template <> struct message_traits<Echo> : message_traits_of<Command::Echo, Direction::both> {
    static constexpr std::string_view name = "ECHO";
};
template <> struct message_traits<Search> : message_traits_of<Command::Search, Direction::to_server, Transport::tcp_and_udp> {
    static constexpr std::string_view name = "SEARCH";
};
template <> struct message_traits<SearchResponse> : message_traits_of<Command::SearchResponse, Direction::to_client, Transport::tcp_and_udp> {
    static constexpr std::string_view name = "SEARCH_RESPONSE";
};
template <> struct message_traits<AuthNZ> : message_traits_of<Command::AuthNZ, Direction::both> {
    static constexpr std::string_view name = "AUTHNZ";
};
template <> struct message_traits<AclChange> : message_traits_of<Command::AclChange, Direction::both> {
    static constexpr std::string_view name = "ACL_CHANGE";
};
template <> struct message_traits<CreateChannelRequest> : message_traits_of<Command::CreateChannel, Direction::to_server> {
    static constexpr std::string_view name = "CREATE_CHANNEL request";
};
template <> struct message_traits<CreateChannelResponse> : message_traits_of<Command::CreateChannel, Direction::to_client> {
    static constexpr std::string_view name = "CREATE_CHANNEL response";
};
template <> struct message_traits<DestroyChannel> : message_traits_of<Command::DestroyChannel, Direction::both> {
    static constexpr std::string_view name = "DESTROY_CHANNEL";
};
template <> struct message_traits<ConnectionValidated> : message_traits_of<Command::ConnectionValidated, Direction::to_client> {
    static constexpr std::string_view name = "CONNECTION_VALIDATED";
};
template <> struct message_traits<GetRequest> : message_traits_of<Command::Get, Direction::to_server, Transport::tcp, operation_subcommands::get> {
    static constexpr std::string_view name = "GET request";
};
template <> struct message_traits<GetResponse> : message_traits_of<Command::Get, Direction::to_client, Transport::tcp, operation_subcommands::get> {
    static constexpr std::string_view name = "GET response";
};
template <> struct message_traits<PutRequest> : message_traits_of<Command::Put, Direction::to_server, Transport::tcp, operation_subcommands::put> {
    static constexpr std::string_view name = "PUT request";
};
template <> struct message_traits<PutResponse> : message_traits_of<Command::Put, Direction::to_client, Transport::tcp, operation_subcommands::put> {
    static constexpr std::string_view name = "PUT response";
};
template <> struct message_traits<PutGetRequest> : message_traits_of<Command::PutGet, Direction::to_server, Transport::tcp, operation_subcommands::put_get> {
    static constexpr std::string_view name = "PUT_GET request";
};
template <> struct message_traits<PutGetResponse> : message_traits_of<Command::PutGet, Direction::to_client, Transport::tcp, operation_subcommands::put_get> {
    static constexpr std::string_view name = "PUT_GET response";
};
template <> struct message_traits<MonitorRequest> : message_traits_of<Command::Monitor, Direction::to_server, Transport::tcp, operation_subcommands::monitor> {
    static constexpr std::string_view name = "MONITOR request";
};
template <> struct message_traits<MonitorResponse> : message_traits_of<Command::Monitor, Direction::to_client, Transport::tcp, operation_subcommands::monitor> {
    static constexpr std::string_view name = "MONITOR response";
};
template <> struct message_traits<ArrayRequest> : message_traits_of<Command::Array, Direction::to_server, Transport::tcp, operation_subcommands::array> {
    static constexpr std::string_view name = "ARRAY request";
};
template <> struct message_traits<ArrayResponse> : message_traits_of<Command::Array, Direction::to_client, Transport::tcp, operation_subcommands::array> {
    static constexpr std::string_view name = "ARRAY response";
};
template <> struct message_traits<DestroyRequest> : message_traits_of<Command::DestroyRequest, Direction::to_server> {
    static constexpr std::string_view name = "DESTROY_REQUEST";
};
template <> struct message_traits<ProcessRequest> : message_traits_of<Command::Process, Direction::to_server, Transport::tcp, operation_subcommands::process> {
    static constexpr std::string_view name = "PROCESS request";
};
template <> struct message_traits<ProcessResponse> : message_traits_of<Command::Process, Direction::to_client, Transport::tcp, operation_subcommands::process> {
    static constexpr std::string_view name = "PROCESS response";
};
template <> struct message_traits<GetFieldRequest> : message_traits_of<Command::GetField, Direction::to_server> {
    static constexpr std::string_view name = "GET_FIELD request";
};
template <> struct message_traits<GetFieldResponse> : message_traits_of<Command::GetField, Direction::to_client> {
    static constexpr std::string_view name = "GET_FIELD response";
};
template <> struct message_traits<RemoteMessage> : message_traits_of<Command::Message, Direction::to_client> {
    static constexpr std::string_view name = "MESSAGE";
};
template <> struct message_traits<MultipleData> : message_traits_of<Command::MultipleData, Direction::to_client> {
    static constexpr std::string_view name = "MULTIPLE_DATA";
};
template <> struct message_traits<RpcRequest> : message_traits_of<Command::Rpc, Direction::to_server, Transport::tcp, operation_subcommands::rpc> {
    static constexpr std::string_view name = "RPC request";
};
template <> struct message_traits<RpcResponse> : message_traits_of<Command::Rpc, Direction::to_client, Transport::tcp, operation_subcommands::rpc> {
    static constexpr std::string_view name = "RPC response";
};
template <> struct message_traits<CancelRequest> : message_traits_of<Command::CancelRequest, Direction::to_server> {
    static constexpr std::string_view name = "CANCEL_REQUEST";
};
template <> struct message_traits<OriginTag> : message_traits_of<Command::OriginTag, Direction::to_server, Transport::udp> {
    static constexpr std::string_view name = "ORIGIN_TAG";
};
/// @endcond

/// A message struct: one alternative of Body.
template <class T>
concept message_type = requires { message_traits<T>::direction; };

/// The command byte `msg` is sent with.
template <message_type T> constexpr std::uint8_t command_byte(const T& msg) noexcept {
    if constexpr (std::is_same_v<T, Control>) return std::uint8_t(msg.code);
    else return std::uint8_t(message_traits<T>::command);
}

/// Calls f(std::type_identity<T>{}) with the message struct an application message of this
/// command and direction decodes into, and returns true; false for a command byte we do not
/// know. The one table from command bytes to types.
template <class F> bool visit_message_type(std::uint8_t command, bool from_server, F&& f) {
    const auto pick = [&]<class FromClient, class FromServer>(std::type_identity<FromClient>, std::type_identity<FromServer>) {
        if (from_server) f(std::type_identity<FromServer>{});
        else f(std::type_identity<FromClient>{});
        return true;
    };
    const auto one = [&]<class T>(std::type_identity<T> t) {
        f(t);
        return true;
    };
    using std::type_identity;
    switch (Command(command)) {
    case Command::Beacon: return one(type_identity<Beacon>{});
    case Command::ConnectionValidation: return pick(type_identity<ValidationResponse>{}, type_identity<ValidationRequest>{});
    case Command::Echo: return one(type_identity<Echo>{});
    case Command::Search: return one(type_identity<Search>{});
    case Command::SearchResponse: return one(type_identity<SearchResponse>{});
    case Command::AuthNZ: return one(type_identity<AuthNZ>{});
    case Command::AclChange: return one(type_identity<AclChange>{});
    case Command::CreateChannel: return pick(type_identity<CreateChannelRequest>{}, type_identity<CreateChannelResponse>{});
    case Command::DestroyChannel: return one(type_identity<DestroyChannel>{});
    case Command::ConnectionValidated: return one(type_identity<ConnectionValidated>{});
    case Command::Get: return pick(type_identity<GetRequest>{}, type_identity<GetResponse>{});
    case Command::Put: return pick(type_identity<PutRequest>{}, type_identity<PutResponse>{});
    case Command::PutGet: return pick(type_identity<PutGetRequest>{}, type_identity<PutGetResponse>{});
    case Command::Monitor: return pick(type_identity<MonitorRequest>{}, type_identity<MonitorResponse>{});
    case Command::Array: return pick(type_identity<ArrayRequest>{}, type_identity<ArrayResponse>{});
    case Command::DestroyRequest: return one(type_identity<DestroyRequest>{});
    case Command::Process: return pick(type_identity<ProcessRequest>{}, type_identity<ProcessResponse>{});
    case Command::GetField: return pick(type_identity<GetFieldRequest>{}, type_identity<GetFieldResponse>{});
    case Command::Message: return one(type_identity<RemoteMessage>{});
    case Command::MultipleData: return one(type_identity<MultipleData>{});
    case Command::Rpc: return pick(type_identity<RpcRequest>{}, type_identity<RpcResponse>{});
    case Command::CancelRequest: return one(type_identity<CancelRequest>{});
    case Command::OriginTag: return one(type_identity<OriginTag>{});
    }
    return false;
}

}  // namespace pvwire::wire

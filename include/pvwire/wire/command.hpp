/// @file
/// Command bytes of application and control messages (protocol.md §1.4, §4.1), and the
/// operation sub-command bits (§4.2).
#pragma once

#include <cstdint>
#include <string_view>

namespace pvwire::wire {

/// The command byte of an application message.
enum class Command : std::uint8_t {
    Beacon = 0x00,
    ConnectionValidation = 0x01,
    Echo = 0x02,
    Search = 0x03,
    SearchResponse = 0x04,
    AuthNZ = 0x05,
    AclChange = 0x06,
    CreateChannel = 0x07,
    DestroyChannel = 0x08,
    ConnectionValidated = 0x09,
    Get = 0x0A,
    Put = 0x0B,
    PutGet = 0x0C,
    Monitor = 0x0D,
    Array = 0x0E,
    DestroyRequest = 0x0F,
    Process = 0x10,
    GetField = 0x11,
    Message = 0x12,
    MultipleData = 0x13,
    Rpc = 0x14,
    CancelRequest = 0x15,
    OriginTag = 0x16,
};

/// The command byte of a control message (flags bit 0 set).
enum class ControlCommand : std::uint8_t {
    MarkTotalBytesSent = 0x00,
    AckTotalBytesReceived = 0x01,
    SetByteOrder = 0x02,
    EchoRequest = 0x03,   ///< old specification only; nobody sends it
    EchoResponse = 0x04,  ///< old specification only
};

/// Sub-command bits of GET, PUT, PUT_GET, MONITOR, ARRAY, PROCESS and RPC.
namespace subcmd {
inline constexpr std::uint8_t exec = 0x00;  ///< the request proper (after INIT)
inline constexpr std::uint8_t process = 0x04;  ///< MONITOR start/stop; ARRAY get-length
inline constexpr std::uint8_t init = 0x08;     ///< create the operation; the reply carries its type
inline constexpr std::uint8_t destroy = 0x10;  ///< destroy the operation after this request
inline constexpr std::uint8_t get = 0x40;      ///< PUT: get current; PUT_GET: get-get; ARRAY: get
inline constexpr std::uint8_t get_put = 0x80;  ///< PUT_GET: get-put; ARRAY: set-length; MONITOR: pipeline/ack
inline constexpr std::uint8_t monitor_start = 0x44;  ///< MONITOR: start (get + process bits)
inline constexpr std::uint8_t monitor_stop = 0x04;   ///< MONITOR: stop
}  // namespace subcmd

/// The specification's name of an application command: "GET", "SEARCH_RESPONSE", ...;
/// "UNKNOWN" for other bytes.
std::string_view command_name(std::uint8_t command) noexcept;
/// The name of a control command: "SET_BYTE_ORDER", ...; "UNKNOWN_CONTROL" for other bytes.
std::string_view control_name(std::uint8_t command) noexcept;

}  // namespace pvwire::wire

#ifdef PVWIRE_HEADER_ONLY
#include <pvwire/wire/impl/command.ipp>
#endif

// Every public header of the data, wire and msgpack layers in one more translation unit: a
// definition that PVWIRE_HEADER_ONLY fails to make inline breaks the link.
#include <pvwire/data/bitset.hpp>
#include <pvwire/data/nt.hpp>
#include <pvwire/data/shared_array.hpp>
#include <pvwire/data/type_code.hpp>
#include <pvwire/data/type_desc.hpp>
#include <pvwire/data/value.hpp>
#include <pvwire/data/value_recycler.hpp>
#include <pvwire/msgpack/codec.hpp>
#include <pvwire/msgpack/protocol.hpp>
#include <pvwire/wire/basic_types.hpp>
#include <pvwire/wire/byte_order.hpp>
#include <pvwire/wire/capture_text.hpp>
#include <pvwire/wire/command.hpp>
#include <pvwire/wire/connection_codec.hpp>
#include <pvwire/wire/datagram.hpp>
#include <pvwire/wire/describe.hpp>
#include <pvwire/wire/error.hpp>
#include <pvwire/wire/framing.hpp>
#include <pvwire/wire/header.hpp>
#include <pvwire/wire/limits.hpp>
#include <pvwire/wire/message.hpp>
#include <pvwire/wire/message_traits.hpp>
#include <pvwire/wire/operation_table.hpp>
#include <pvwire/wire/out_buffer.hpp>
#include <pvwire/wire/reader.hpp>
#include <pvwire/wire/segment_assembler.hpp>
#include <pvwire/wire/type_cache.hpp>
#include <pvwire/wire/type_codec.hpp>
#include <pvwire/wire/utf8.hpp>
#include <pvwire/wire/value_codec.hpp>
#include <pvwire/wire/writer.hpp>
#include <pvwire/wire/messages/channel.hpp>
#include <pvwire/wire/messages/connection.hpp>
#include <pvwire/wire/messages/discovery.hpp>
#include <pvwire/wire/messages/operations.hpp>

#ifdef BOOST_ASIO_VERSION
#error "the data, wire and msgpack layers must not include Asio"
#endif

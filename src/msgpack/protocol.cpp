// The compiled form of msgpack/impl/protocol.ipp (inline in every includer under PVWIRE_HEADER_ONLY).
#include <pvwire/msgpack/impl/protocol.ipp>

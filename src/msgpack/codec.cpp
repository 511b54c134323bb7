// The compiled form of msgpack/impl/codec.ipp (inline in every includer under PVWIRE_HEADER_ONLY).
#include <pvwire/msgpack/impl/codec.ipp>

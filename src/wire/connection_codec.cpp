// The compiled form of wire/impl/connection_codec.ipp (inline in every includer under PVWIRE_HEADER_ONLY).
#include <pvwire/wire/impl/connection_codec.ipp>

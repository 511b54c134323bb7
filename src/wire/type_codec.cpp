// The compiled form of wire/impl/type_codec.ipp (inline in every includer under PVWIRE_HEADER_ONLY).
#include <pvwire/wire/impl/type_codec.ipp>

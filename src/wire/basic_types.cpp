// The compiled form of wire/impl/basic_types.ipp (inline in every includer under PVWIRE_HEADER_ONLY).
#include <pvwire/wire/impl/basic_types.ipp>

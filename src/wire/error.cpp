// The compiled form of wire/impl/error.ipp (inline in every includer under PVWIRE_HEADER_ONLY).
#include <pvwire/wire/impl/error.ipp>

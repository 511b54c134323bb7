// The compiled form of wire/impl/describe.ipp (inline in every includer under PVWIRE_HEADER_ONLY).
#include <pvwire/wire/impl/describe.ipp>

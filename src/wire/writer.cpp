// The compiled form of wire/impl/writer.ipp (inline in every includer under PVWIRE_HEADER_ONLY).
#include <pvwire/wire/impl/writer.ipp>

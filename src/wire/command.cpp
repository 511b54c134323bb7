// The compiled form of wire/impl/command.ipp (inline in every includer under PVWIRE_HEADER_ONLY).
#include <pvwire/wire/impl/command.ipp>

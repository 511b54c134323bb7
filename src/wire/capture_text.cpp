// The compiled form of wire/impl/capture_text.ipp (inline in every includer under PVWIRE_HEADER_ONLY).
#include <pvwire/wire/impl/capture_text.ipp>

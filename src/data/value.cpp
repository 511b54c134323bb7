// The compiled form of data/impl/value.ipp (inline in every includer under PVWIRE_HEADER_ONLY).
#include <pvwire/data/impl/value.ipp>

// The compiled form of data/impl/value_format.ipp (inline in every includer under PVWIRE_HEADER_ONLY).
#include <pvwire/data/impl/value_format.ipp>

// The compiled form of data/impl/nt.ipp (inline in every includer under PVWIRE_HEADER_ONLY).
#include <pvwire/data/impl/nt.ipp>

// The compiled form of data/impl/value_recycler.ipp (inline in every includer under PVWIRE_HEADER_ONLY).
#include <pvwire/data/impl/value_recycler.ipp>

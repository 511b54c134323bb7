// The compiled form of data/impl/type_desc.ipp (inline in every includer under PVWIRE_HEADER_ONLY).
#include <pvwire/data/impl/type_desc.ipp>

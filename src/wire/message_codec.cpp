// The compiled form of wire/impl/message_codec.ipp (inline in every includer under PVWIRE_HEADER_ONLY).
#include <pvwire/wire/impl/message_codec.ipp>

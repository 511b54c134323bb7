// Built by the typed_encode_* CTest tests (CMakeLists.txt), never as part of the normal build:
// each PVWIRE_CASE must fail to compile at the typed codec's static_assert, and
// PVWIRE_CASE_VALID must compile, which shows the failures come from the assertions and not
// from a broken file.
#include <pvwire/wire/message.hpp>

int main() {
    using namespace pvwire::wire;
    OutBuffer out;
#if defined(PVWIRE_CASE_GET_RESPONSE_FROM_CLIENT)
    encode<Direction::to_server>(GetResponse{}, out);  // servers send GET replies
#elif defined(PVWIRE_CASE_ECHO_WITHOUT_DIRECTION)
    encode(Echo{}, out);  // ECHO travels both ways: the call must say which
#elif defined(PVWIRE_CASE_VALID)
    encode<Direction::to_client>(GetResponse{}, out);
    encode<Direction::to_server>(Echo{}, out);
    encode(GetRequest{}, out);
    encode(GetResponse{}, out, {.order = ByteOrder::Big});  // as docs/wire-codec.md shows
#else
#error "define one PVWIRE_CASE_*"
#endif
    return 0;
}

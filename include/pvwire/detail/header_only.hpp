// PVWIRE_HEADER_ONLY: the data, wire and msgpack layers without the compiled library, in the
// manner of FMT_HEADER_ONLY and Asio's optional separate compilation. Their implementation
// lives in include/pvwire/<layer>/impl/*.ipp. By default the library's src/<layer>/*.cpp
// compile each .ipp once; with PVWIRE_HEADER_ONLY defined (the pvwire::header_only CMake
// target defines it) each public header includes its .ipp and every function is inline.
#pragma once

#ifdef PVWIRE_HEADER_ONLY
#define PVWIRE_DECL inline
// Header-only, an .ipp's helpers need one definition across translation units, so they live
// in a named namespace (made visible where the anonymous one would have been).
#define PVWIRE_IMPL_NAMESPACE(name) namespace name
#define PVWIRE_USE_IMPL_NAMESPACE(name) using namespace name;
#else
#define PVWIRE_DECL
// Compiled, the helpers keep internal linkage so that the compiler may inline and drop them.
#define PVWIRE_IMPL_NAMESPACE(name) namespace
#define PVWIRE_USE_IMPL_NAMESPACE(name)
#endif

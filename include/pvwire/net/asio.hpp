/// @file
/// The one place pvwire includes Boost.Asio. With Boost 1.74 and g++ 12, `<utility>` must come
/// before Asio for its C++20 coroutine support to compile.
#pragma once

#include <utility>

// Boost 1.74 enables co_await (asio::awaitable, use_awaitable, co_spawn) under clang only when
// <experimental/coroutine> exists, which libstdc++ does not have: with clang and libstdc++ the
// coroutine API would be compiled out although clang supports C++20 coroutines and Asio
// already selects std::coroutine_handle from <coroutine> for it (BOOST_ASIO_HAS_STD_COROUTINE).
// Enable it there too. The macro only gates Asio's coroutine headers, so translation units
// built with and without it stay compatible.
#if defined(__clang__) && !defined(BOOST_ASIO_HAS_CO_AWAIT) && !defined(BOOST_ASIO_DISABLE_CO_AWAIT) && \
    defined(__cpp_impl_coroutine) && __has_include(<coroutine>) && !__has_include(<experimental/coroutine>)
#define BOOST_ASIO_HAS_CO_AWAIT 1
#endif

#include <boost/asio.hpp>

namespace pvwire::net {
namespace asio = boost::asio;
using tcp = boost::asio::ip::tcp;
using udp = boost::asio::ip::udp;
}  // namespace pvwire::net

// The one place pvwire includes Boost.Asio. With Boost 1.74 and g++ 12, <utility> must come
// before Asio for its C++20 coroutine support to compile.
#pragma once

#include <utility>

#include <boost/asio.hpp>

namespace pvwire::net {
namespace asio = boost::asio;
using tcp = boost::asio::ip::tcp;
using udp = boost::asio::ip::udp;
}  // namespace pvwire::net

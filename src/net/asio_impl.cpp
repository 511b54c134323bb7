// Boost.Asio's compiled part, built once here (BOOST_ASIO_SEPARATE_COMPILATION is a public
// definition of the pvwire target), so that each file using Asio compiles faster.
#include <utility>

#include <boost/asio/impl/src.hpp>

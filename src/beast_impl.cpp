// The one translation unit that compiles Boost.Beast (separate compilation,
// like asio_impl.cpp): Beast is slow to compile, so the sessions see only its
// declarations.
#include <boost/beast/src.hpp>

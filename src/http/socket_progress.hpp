// Whether a client is still reading: the bytes of a TCP connection the
// peer has acknowledged so far (Linux TCP_INFO tcpi_bytes_acked). A session
// that closes a slow client compares it over time: a client that reads goes
// on being given time to get its last frames; one that reads nothing does not.
//
// Pure function over a socket descriptor; thread-safe. (No Asio here:
// socket_progress.cpp includes <linux/tcp.h>, which clashes with the
// <netinet/tcp.h> Asio brings; the close rule is in slow_close.hpp.)
#pragma once

#include <cstdint>
#include <optional>

namespace http {

/// Bytes the peer has acknowledged on TCP socket `fd`; nullopt when the
/// kernel does not say (not TCP, an old kernel).
std::optional<std::uint64_t> bytes_acked(int fd);

} // namespace http

// linux/tcp.h has the whole tcp_info (glibc's netinet/tcp.h stops before
// tcpi_bytes_acked); this file includes nothing that includes the other.
#include "http/socket_progress.hpp"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>

namespace http {

std::optional<std::uint64_t> bytes_acked(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return std::nullopt;
  if (len < offsetof(tcp_info, tcpi_bytes_acked) + sizeof info.tcpi_bytes_acked)
    return std::nullopt;
  return info.tcpi_bytes_acked;
}

} // namespace http

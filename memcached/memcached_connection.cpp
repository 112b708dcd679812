#include "mtcache/memcached/memcached_connection.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

namespace {

using clock_type = std::chrono::steady_clock;

// Waits until `fd` is ready for `events` or `deadline` passed; false on timeout.
bool wait_for(int fd, short events, clock_type::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    if (left.count() <= 0)
      return false;
    pollfd p{fd, events, 0};
    auto n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0)
      return true;
    if (n < 0 && errno != EINTR)
      return false;
  }
}

struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0)
      ::close(fd);
  }
};

// A non-blocking connected socket to `ai`, or the reason it failed.
caf::expected<int> connect_to(const addrinfo* ai, clock_type::time_point deadline) {
  int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0)
    return make_error(errc::backend_unavailable, std::string{"socket: "} + strerror(errno));
  fd_guard guard{fd};
  if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    if (errno != EINPROGRESS)
      return make_error(errc::backend_unavailable, strerror(errno));
    if (!wait_for(fd, POLLOUT, deadline))
      return make_error(errc::timeout, "connect timed out");
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0)
      return make_error(errc::backend_unavailable, strerror(err));
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  guard.fd = -1;
  return fd;
}

// Sends `mn` and expects `MN`: the server is up and speaks the meta protocol.
caf::error check_meta(int fd, clock_type::time_point deadline) {
  const char probe[] = "mn\r\n";
  size_t sent = 0;
  while (sent < sizeof(probe) - 1) {
    if (!wait_for(fd, POLLOUT, deadline))
      return make_error(errc::timeout, "no answer to mn");
    auto n = ::send(fd, probe + sent, sizeof(probe) - 1 - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      return make_error(errc::backend_unavailable, std::string{"send: "} + strerror(errno));
    if (n > 0)
      sent += static_cast<size_t>(n);
  }
  std::string line;
  while (line.find('\n') == std::string::npos) {
    if (!wait_for(fd, POLLIN, deadline))
      return make_error(errc::timeout, "no answer to mn");
    char buf[256];
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n == 0)
      return make_error(errc::backend_unavailable, "closed the connection");
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      return make_error(errc::backend_unavailable, std::string{"recv: "} + strerror(errno));
    if (n > 0)
      line.append(buf, static_cast<size_t>(n));
    if (line.size() > 1024)
      break;
  }
  if (line == "MN\r\n")
    return caf::none;
  return make_error(errc::backend_error,
                    "does not speak the meta protocol (memcached 1.6 or later needed); answered '" +
                        line.substr(0, line.find('\r')) + "'");
}

} // namespace

caf::expected<connected_socket> open_memcached_socket(const memcached_server& server,
                                                      std::chrono::milliseconds timeout) {
  auto where = "memcached at " + to_string(server) + ": ";
  auto deadline = clock_type::now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  auto port = std::to_string(server.port);
  if (auto rc = ::getaddrinfo(server.host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return make_error(errc::backend_unavailable, where + gai_strerror(rc));
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> list{found, freeaddrinfo};
  caf::error last;
  for (auto* ai = found; ai != nullptr; ai = ai->ai_next) {
    auto fd = connect_to(ai, deadline);
    if (!fd) {
      last = std::move(fd.error());
      continue;
    }
    if (auto err = check_meta(*fd, deadline)) {
      ::close(*fd);
      last = std::move(err);
      continue;
    }
    return connected_socket{*fd};
  }
  if (!last)
    return make_error(errc::backend_unavailable, where + "no address");
  auto code = static_cast<errc>(last.code());
  auto text = last.context().match_elements<std::string>() ? last.context().get_as<std::string>(0)
                                                           : std::string{};
  return make_error(code, where + text);
}

} // namespace mtcache::detail

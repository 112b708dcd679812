#include "mtcache/cli/http_get.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "mtcache/messages/error.hpp"

namespace mtcache::cli {

namespace {

using clock_type = std::chrono::steady_clock;

struct fd_closer {
  int fd;
  ~fd_closer() {
    if (fd >= 0)
      ::close(fd);
  }
};

int remaining_ms(clock_type::time_point deadline) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

bool wait_for(int fd, short events, clock_type::time_point deadline) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, remaining_ms(deadline)) > 0;
}

std::string header_value(const std::string& head, const std::string& name) {
  auto lower = [](std::string s) {
    for (auto& ch : s)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  };
  auto h = lower(head);
  auto pos = h.find("\r\n" + lower(name) + ":");
  if (pos == std::string::npos)
    return {};
  pos += name.size() + 3;
  auto end = head.find("\r\n", pos);
  auto value = head.substr(pos, end - pos);
  while (!value.empty() && value.front() == ' ')
    value.erase(0, 1);
  return value;
}

} // namespace

caf::expected<http_reply> http_get(const std::string& url, std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0)
    return make_error(errc::invalid_url, "not an http:// URL: " + url);
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  auto path = slash == std::string::npos ? std::string{"/"} : rest.substr(slash);
  std::string host = authority;
  std::string port = "80";
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos)
      return make_error(errc::invalid_url, "unterminated IPv6 address in " + url);
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      port = authority.substr(close + 2);
  } else if (auto colon = authority.rfind(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty() || port.empty())
    return make_error(errc::invalid_url, "no host or port in " + url);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return make_error(errc::backend_unavailable,
                      "cannot resolve " + host + ": " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses{found, ::freeaddrinfo};
  fd_closer sock{::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0)};
  if (sock.fd < 0)
    return make_error(errc::backend_unavailable, std::string{"socket: "} + std::strerror(errno));
  if (::connect(sock.fd, found->ai_addr, found->ai_addrlen) != 0 && errno != EINPROGRESS)
    return make_error(errc::backend_unavailable,
                      "cannot connect to " + authority + ": " + std::strerror(errno));
  if (!wait_for(sock.fd, POLLOUT, deadline))
    return make_error(errc::timeout, "no connection to " + authority + " in time");
  int err = 0;
  socklen_t len = sizeof(err);
  ::getsockopt(sock.fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0)
    return make_error(errc::backend_unavailable,
                      "cannot connect to " + authority + ": " + std::strerror(err));
  auto request = "GET " + path + " HTTP/1.1\r\nHost: " + authority +
                 "\r\nUser-Agent: mtcache-cli\r\nAccept: text/plain\r\nConnection: close\r\n\r\n";
  for (size_t sent = 0; sent < request.size();) {
    if (!wait_for(sock.fd, POLLOUT, deadline))
      return make_error(errc::timeout, "sending to " + authority + " timed out");
    auto n = ::send(sock.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN)
      return make_error(errc::backend_unavailable, std::string{"send: "} + std::strerror(errno));
    if (n > 0)
      sent += static_cast<size_t>(n);
  }
  std::string response;
  char buf[16384];
  for (;;) {
    if (!wait_for(sock.fd, POLLIN, deadline))
      return make_error(errc::timeout, "no complete answer from " + authority + " in time");
    auto n = ::recv(sock.fd, buf, sizeof(buf), 0);
    if (n == 0)
      break;
    if (n < 0) {
      if (errno == EAGAIN)
        continue;
      return make_error(errc::backend_unavailable, std::string{"recv: "} + std::strerror(errno));
    }
    response.append(buf, static_cast<size_t>(n));
  }
  auto head_end = response.find("\r\n\r\n");
  if (head_end == std::string::npos || response.compare(0, 9, "HTTP/1.1 ") != 0)
    return make_error(errc::malformed_message, "not an HTTP/1.1 answer from " + authority);
  http_reply reply;
  reply.status = std::atoi(response.c_str() + 9);
  auto head = response.substr(0, head_end);
  reply.content_type = header_value(head, "Content-Type");
  reply.body = response.substr(head_end + 4);
  if (auto length = header_value(head, "Content-Length"); !length.empty()) {
    auto n = std::stoull(length);
    if (reply.body.size() < n)
      return make_error(errc::malformed_message, "answer from " + authority + " cut short");
    reply.body.resize(n);
  }
  return reply;
}

} // namespace mtcache::cli

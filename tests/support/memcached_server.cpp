#include "support/memcached_server.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace mtcache::testing {

memcached_server::memcached_server() : server_process({"memcached", "memcached", "mn"}) {
  // nop
}

memcached_server::~memcached_server() = default;

std::vector<std::string> memcached_server::command_line() const {
  std::vector<std::string> argv{"memcached", "-l", "127.0.0.1", "-p", std::to_string(port()),
                                "-U",        "0",  "-m",        "64", "-t",
                                "2"};
  // memcached refuses to run as root unless told which user to be.
  if (geteuid() == 0) {
    argv.emplace_back("-u");
    argv.emplace_back("root");
  }
  argv.insert(argv.end(), extra_args().begin(), extra_args().end());
  return argv;
}

bool memcached_server::ready() const {
  return command("").rfind("ERR", 0) != 0;
}

std::string memcached_server::url() const {
  return "memcache://127.0.0.1:" + std::to_string(port());
}

std::string memcached_server::command(const std::string& text) const {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return "ERR: socket";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "ERR: cannot connect";
  }
  auto out = text + "mn\r\n";
  size_t sent = 0;
  while (sent < out.size()) {
    auto n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return "ERR: send";
    }
    sent += static_cast<size_t>(n);
  }
  std::string in;
  auto done = [&] { return in.size() >= 4 && in.compare(in.size() - 4, 4, "MN\r\n") == 0; };
  while (!done()) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0)
      break;
    char buf[65536];
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0)
      break;
    in.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (!done())
    return "ERR: no answer";
  return in.substr(0, in.size() - 4);
}

} // namespace mtcache::testing

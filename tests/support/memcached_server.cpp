#include "support/memcached_server.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "support/child_process.hpp"
#include "support/loopback_port.hpp"
#include "support/redis_server.hpp"

namespace mtcache::testing {

memcached_server::~memcached_server() {
  if (pid_ > 0) {
    resume();
    kill();
  }
}

bool memcached_server::start(std::vector<std::string> extra_args) {
  args_ = std::move(extra_args);
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_loopback_port();
    if (port_ == 0) {
      error_ = "no free loopback port";
      continue;
    }
    if (spawn() && wait_ready(std::chrono::seconds{5}))
      return true;
    kill();
    if (error_.find("PATH") != std::string::npos)
      return false;
  }
  return false;
}

bool memcached_server::restart() {
  return spawn() && wait_ready(std::chrono::seconds{5});
}

bool memcached_server::spawn() {
  std::vector<std::string> argv{"memcached", "-l", "127.0.0.1", "-p", std::to_string(port_),
                                "-U",        "0",  "-m",        "64", "-t",
                                "2"};
  // memcached refuses to run as root unless told which user to be.
  if (geteuid() == 0) {
    argv.emplace_back("-u");
    argv.emplace_back("root");
  }
  argv.insert(argv.end(), args_.begin(), args_.end());
  pid_ = spawn_server(std::move(argv), false, error_);
  return pid_ > 0;
}

bool memcached_server::wait_ready(std::chrono::milliseconds timeout) {
  int status = 0;
  bool ok = eventually(
      [&] {
        if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          return true;
        }
        return command("").rfind("ERR", 0) != 0;
      },
      timeout);
  if (pid_ < 0) {
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
      error_ = "cannot run memcached from PATH (install the memcached package: scripts/setup "
               "does)";
    else
      error_ = "memcached exited at start (port " + std::to_string(port_) + " taken?)";
    return false;
  }
  if (!ok)
    error_ = "memcached did not answer mn within " + std::to_string(timeout.count()) + " ms";
  return ok;
}

void memcached_server::kill() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

void memcached_server::pause() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGSTOP);
  // kill() returns before every thread stopped: until then the server may still answer.
  int status = 0;
  ::waitpid(pid_, &status, WUNTRACED);
}

void memcached_server::resume() {
  if (pid_ > 0)
    ::kill(pid_, SIGCONT);
}

std::string memcached_server::url() const {
  return "memcache://127.0.0.1:" + std::to_string(port_);
}

std::string memcached_server::command(const std::string& text) const {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return "ERR: socket";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port_);
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

#include "support/server_process.hpp"

#include <signal.h>
#include <sys/wait.h>

#include "support/child_process.hpp"
#include "support/loopback_port.hpp"
#include "support/redis_server.hpp"

namespace mtcache::testing {

server_process::~server_process() {
  if (pid_ > 0) {
    resume();
    kill();
  }
}

bool server_process::start(std::vector<std::string> extra_args) {
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

bool server_process::restart() {
  return spawn() && wait_ready(std::chrono::seconds{5});
}

bool server_process::spawn() {
  pid_ = spawn_server(command_line(), prog_.keep_stderr, error_);
  return pid_ > 0;
}

bool server_process::wait_ready(std::chrono::milliseconds timeout) {
  int status = 0;
  bool ok = eventually(
      [&] {
        if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          return true;
        }
        return ready();
      },
      timeout);
  if (pid_ < 0) {
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
      error_ = "cannot run " + prog_.name + " from PATH (install the " + prog_.package +
               " package: scripts/setup does)";
    else
      error_ = prog_.name + " exited at start (port " + std::to_string(port_) + " taken?)";
    return false;
  }
  if (!ok)
    error_ = prog_.name + " did not answer " + prog_.probe + " within " +
             std::to_string(timeout.count()) + " ms";
  return ok;
}

void server_process::kill() {
  stop_server(pid_);
}

void server_process::pause() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGSTOP);
  // kill() returns before every thread stopped: until then the server may still answer.
  int status = 0;
  ::waitpid(pid_, &status, WUNTRACED);
}

void server_process::resume() {
  if (pid_ > 0)
    ::kill(pid_, SIGCONT);
}

} // namespace mtcache::testing

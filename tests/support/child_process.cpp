#include "support/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mtcache::testing {

pid_t spawn_server(std::vector<std::string> argv, bool keep_stderr, std::string& error) {
  std::vector<char*> cargv;
  for (auto& a : argv)
    cargv.push_back(a.data());
  cargv.push_back(nullptr);
  auto parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    error = "fork failed: " + std::string{strerror(errno)};
    return -1;
  }
  if (pid == 0) {
    // Die with the test: a crashed or killed test must not leave servers behind.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(1);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    if (!keep_stderr)
      dup2(devnull, STDERR_FILENO);
    execvp(cargv[0], cargv.data());
    _exit(127);
  }
  return pid;
}

child_process::~child_process() {
  kill();
}

bool child_process::start(const std::vector<std::string>& argv) {
  int in[2];
  int out[2];
  if (pipe(in) != 0 || pipe(out) != 0)
    return false;
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (auto& a : args)
    cargv.push_back(a.data());
  cargv.push_back(nullptr);
  auto parent = getpid();
  pid_ = fork();
  if (pid_ < 0)
    return false;
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(1);
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    close(in[1]);
    close(out[0]);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  to_child_ = in[1];
  from_child_ = out[0];
  return true;
}

bool child_process::write_line(const std::string& line) {
  auto text = line + "\n";
  return ::write(to_child_, text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

std::optional<std::string> child_process::read_line(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
      auto line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return std::nullopt;
    pollfd p{from_child_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0)
      continue;
    char buf[4096];
    auto n = ::read(from_child_, buf, sizeof(buf));
    if (n <= 0)
      return std::nullopt;
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

void stop_server(pid_t& pid) {
  if (pid <= 0)
    return;
  ::kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  pid = -1;
}

void child_process::kill() {
  if (pid_ <= 0)
    return;
  stop_server(pid_);
  close(to_child_);
  close(from_child_);
}

} // namespace mtcache::testing

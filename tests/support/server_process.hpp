#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace mtcache::testing {

/// A server child process on a free loopback port, for tests: what `redis_server` and
/// `memcached_server` share. It starts the program from PATH on a port that was free a moment
/// ago (trying a few, since another test may bind it first), waits until the server answers,
/// and stops it (SIGKILL) with the object. Never a system instance.
class server_process {
public:
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  /// Starts the server with `extra_args` after its own and waits until it answers. Returns
  /// false with the reason in `error()` (program missing, no port, no answer).
  bool start(std::vector<std::string> extra_args = {});

  /// SIGKILL and reap; the port stays reserved for `restart`.
  void kill();

  /// Starts again on the same port with the same arguments (data is gone).
  bool restart();

  /// SIGSTOP / SIGCONT: the server stops answering without closing connections.
  void pause();
  void resume();

  bool running() const { return pid_ > 0; }
  uint16_t port() const { return port_; }
  const std::string& error() const { return error_; }

protected:
  struct program {
    /// As found on PATH.
    std::string name;
    /// The Debian package that has it, for the message when it is missing.
    std::string package;
    /// The request `ready` makes, for the message when it gets no answer.
    std::string probe;
    bool keep_stderr = false;
  };

  explicit server_process(program prog) : prog_(std::move(prog)) {}
  ~server_process();

  /// The whole command line for `port()`, `extra_args()` last.
  virtual std::vector<std::string> command_line() const = 0;

  /// Whether the server answers its probe.
  virtual bool ready() const = 0;

  const std::vector<std::string>& extra_args() const { return args_; }

private:
  bool spawn();
  bool wait_ready(std::chrono::milliseconds timeout);

  program prog_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::vector<std::string> args_;
  std::string error_;
};

} // namespace mtcache::testing

#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace mtcache::testing {

/// A memcached child process on a free loopback port, for tests: `-l 127.0.0.1`, no UDP,
/// 64 MiB, stopped (SIGKILL) with the object. Never a system instance.
class memcached_server {
public:
  memcached_server() = default;
  ~memcached_server();
  memcached_server(const memcached_server&) = delete;
  memcached_server& operator=(const memcached_server&) = delete;

  /// Starts memcached from PATH with `extra_args` and waits until it answers `mn`. Returns
  /// false with the reason in `error()` (memcached missing, no port, no answer).
  bool start(std::vector<std::string> extra_args = {});

  /// SIGKILL and reap; the port stays reserved for `restart`.
  void kill();

  /// Starts again on the same port with the same arguments (data is gone).
  bool restart();

  /// SIGSTOP / SIGCONT: memcached stops answering without closing connections.
  void pause();
  void resume();

  bool running() const { return pid_ > 0; }
  uint16_t port() const { return port_; }
  const std::string& error() const { return error_; }

  /// memcache://127.0.0.1:<port>
  std::string url() const;

  /// Sends `text` (whole commands, data blocks included) on a fresh connection and returns
  /// what memcached answered, up to the reply to an `mn` sent after it; "ERR: ..." if it
  /// cannot connect or gets no answer.
  std::string command(const std::string& text) const;

private:
  bool spawn();
  bool wait_ready(std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::vector<std::string> args_;
  std::string error_;
};

} // namespace mtcache::testing

#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "support/server_process.hpp"

namespace mtcache::testing {

/// A port on 127.0.0.1 that was free a moment ago (another process may take it meanwhile).
uint16_t free_loopback_port();

/// A redis-server child process on a free loopback port, for tests: started with
/// `--save '' --appendonly no`, stopped (SIGKILL) with the object. Never a system instance.
class redis_server : public server_process {
public:
  redis_server();
  ~redis_server();

  /// redis://127.0.0.1:<port>/<db>, with `credentials` ("user:pass@" or ":pass@") if given.
  std::string url(int db = 0, const std::string& credentials = "") const;

  /// Runs one command on a fresh connection and returns the reply as text: strings as they
  /// are, integers in decimal, nil as "(nil)", errors as "ERR: ...", arrays joined by '\n'.
  std::string command(const std::vector<std::string>& argv, int db = 0,
                      const std::string& password = "", const std::string& user = "") const;

  /// Runs `commands` pipelined on one fresh connection and returns their replies, rendered as
  /// `command` does (for commands that depend on the one before, as ASKING does).
  std::vector<std::string> pipeline(const std::vector<std::vector<std::string>>& commands) const;

private:
  std::vector<std::string> command_line() const override;
  bool ready() const override;
};

/// `redis_server::command` for any server on 127.0.0.1 (a sentinel, say).
std::string redis_command(uint16_t port, const std::vector<std::string>& argv, int db = 0,
                          const std::string& password = "", const std::string& user = "");

/// Polls `pred` until it holds or `timeout` passes; returns whether it held.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds{5}) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred())
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    struct timespec ts {
      0, 5'000'000
    };
    nanosleep(&ts, nullptr);
  }
}

} // namespace mtcache::testing

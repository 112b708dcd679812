#pragma once

#include <string>
#include <vector>

#include "support/server_process.hpp"

namespace mtcache::testing {

/// A memcached child process on a free loopback port, for tests: `-l 127.0.0.1`, no UDP,
/// 64 MiB, stopped (SIGKILL) with the object. Never a system instance.
class memcached_server : public server_process {
public:
  memcached_server();
  ~memcached_server();

  /// memcache://127.0.0.1:<port>
  std::string url() const;

  /// Sends `text` (whole commands, data blocks included) on a fresh connection and returns
  /// what memcached answered, up to the reply to an `mn` sent after it; "ERR: ..." if it
  /// cannot connect or gets no answer.
  std::string command(const std::string& text) const;

private:
  std::vector<std::string> command_line() const override;
  bool ready() const override;
};

} // namespace mtcache::testing

#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace mtcache::testing {

/// Starts `argv[0]` from PATH as a server for a test: it dies with the test (PDEATHSIG), and
/// its stdout goes to /dev/null, as its stderr does unless `keep_stderr`. Returns its pid,
/// or -1 with the reason in `error`; a program missing from PATH exits with 127.
pid_t spawn_server(std::vector<std::string> argv, bool keep_stderr, std::string& error);

/// SIGKILLs the child `pid` and reaps it, then sets `pid` to -1; nothing if it is not positive.
void stop_server(pid_t& pid);

/// A child program driven line by line through its stdin and stdout, for tests that need a
/// second process. It dies with the test (PDEATHSIG) and is killed when this goes away.
class child_process {
public:
  child_process() = default;
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  bool start(const std::vector<std::string>& argv);
  bool write_line(const std::string& line);
  /// The next line the child prints, or nothing after `timeout`.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = std::chrono::seconds{5});
  void kill();

private:
  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
  std::string buffer_;
};

} // namespace mtcache::testing

#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace mtcache::testing {

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

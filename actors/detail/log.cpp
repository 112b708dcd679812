#include "mtcache/actors/detail/log.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace mtcache::detail {

namespace {

log_level from_env() {
  auto* env = std::getenv("MTCACHE_LOG");
  if (env == nullptr)
    return log_level::warning;
  if (std::strcmp(env, "off") == 0)
    return log_level::off;
  if (std::strcmp(env, "error") == 0)
    return log_level::error;
  if (std::strcmp(env, "info") == 0)
    return log_level::info;
  return log_level::warning;
}

const char* name(log_level x) {
  switch (x) {
  case log_level::error:
    return "error";
  case log_level::warning:
    return "warning";
  case log_level::info:
    return "info";
  case log_level::off:
    break;
  }
  return "off";
}

} // namespace

log_level current_log_level() {
  static const log_level level = from_env();
  return level;
}

void log(log_level level, std::string_view component, std::string_view message) {
  if (level == log_level::off || static_cast<int>(level) > static_cast<int>(current_log_level()))
    return;
  // One fputs per line keeps lines from different threads whole.
  std::string line = "mtcache ";
  line += name(level);
  line += ' ';
  line += component;
  line += ": ";
  line += message;
  line += '\n';
  std::fputs(line.c_str(), stderr);
}

} // namespace mtcache::detail

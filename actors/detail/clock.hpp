#pragma once

#include <chrono>
#include <cstdint>

namespace mtcache::detail {

/// Milliseconds on the steady clock: what deadlines, grace periods and ages are kept in.
inline int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

/// Milliseconds since the Unix epoch: what changes of different nodes are ordered by.
inline int64_t unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace mtcache::detail

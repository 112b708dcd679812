#pragma once

#include <cstdint>

namespace mtcache::testing {

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0 and released), for
/// the servers tests start; 0 if none could be had.
uint16_t free_loopback_port();

} // namespace mtcache::testing

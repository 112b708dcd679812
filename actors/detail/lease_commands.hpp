#pragma once

// The two commands of a load lease (cache_options::load_lease), as the Redis tier of one
// server and the Redis Cluster tier both send them: SET NX PX to take a key's lease, and a
// compare-and-delete script to release it only while the token still holds it (Redis runs a
// script without interleaving other commands, so a lease that expired and went to another
// flight is left alone).

#include <algorithm>
#include <chrono>
#include <string_view>

#include <caf/timespan.hpp>

#include "mtcache/codec/detail/resp.hpp"

namespace mtcache::detail {

inline void write_take_lease(resp_writer& out, std::string_view head, std::string_view key,
                             std::string_view token, caf::timespan time) {
  // Rounded up, and at least 1 ms: PX 0 is an error.
  auto ms = std::max<long long>(1, std::chrono::ceil<std::chrono::milliseconds>(time).count());
  out.begin(6).arg("SET").arg(head, key).arg(token).arg("NX").arg("PX").arg(ms);
}

inline void write_release_lease(resp_writer& out, std::string_view head, std::string_view key,
                                std::string_view token) {
  constexpr std::string_view script =
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end "
      "return 0";
  out.begin(5).arg("EVAL").arg(script).arg(1LL).arg(head, key).arg(token);
}

} // namespace mtcache::detail

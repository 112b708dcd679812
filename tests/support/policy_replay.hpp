#pragma once

#include <cstdint>
#include <vector>

#include "mtcache/store/eviction_policy.hpp"

namespace mtcache::test {

/// Replays "read; on a miss insert" through `policy`, with each key its own id and hash, and
/// returns the hit ratio.
inline double replay(detail::eviction_policy& policy, const std::vector<uint32_t>& trace) {
  std::vector<bool> resident;
  std::vector<uint32_t> victims;
  size_t hits = 0;
  for (auto key : trace) {
    if (key >= resident.size())
      resident.resize(key + 1);
    if (resident[key]) {
      ++hits;
      policy.record_access(key);
      continue;
    }
    policy.record_miss(key);
    victims.clear();
    policy.insert(key, key, 1, victims);
    resident[key] = true;
    for (auto v : victims)
      resident[v] = false;
  }
  return static_cast<double>(hits) / static_cast<double>(trace.size());
}

} // namespace mtcache::test

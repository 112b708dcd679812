#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "mtcache/store/eviction_policy.hpp"

namespace mtcache::detail {

/// A scaled-down replica of a cache: one eviction policy with a small capacity, fed the
/// requests for a sample of the keys, which tells what hit rate the full-size policy would
/// have (Waldspurger et al., "Cache Modeling and Optimization using Miniature Simulations",
/// USENIX ATC 2017; for LRU the sampling is SHARDS, FAST 2015). Keys are known by their
/// 32-bit hash only; two sampled keys with one hash count as one, which at a few thousand
/// entries happens about once per million pairs.
class miniature_cache {
public:
  /// Replays into `policy`, whose capacity is `capacity` entries.
  miniature_cache(std::unique_ptr<eviction_policy> policy, uint64_t capacity);

  /// A read of the key with this hash, inserted if it missed; returns whether it hit.
  bool access(uint32_t hash);

private:
  static constexpr uint32_t empty = UINT32_MAX;

  /// The table slot of `hash`, or of the empty slot where it would go.
  size_t find(uint32_t hash) const;

  void erase(uint32_t hash);

  std::unique_ptr<eviction_policy> policy_;
  /// Open addressing with linear probing: the id of each slot's key, `empty` if none.
  std::vector<uint32_t> slots_;
  std::vector<uint32_t> hashes_;
  std::vector<uint32_t> free_ids_;
  std::vector<uint32_t> victims_;
  size_t mask_;
};

} // namespace mtcache::detail

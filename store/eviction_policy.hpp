#pragma once

#include <cstdint>
#include <vector>

namespace mtcache::detail {

/// An amount of cache: a number of entries and their total weight.
struct extent {
  uint64_t entries = 0;
  uint64_t weight = 0;

  /// Whether either component is above the same component of `bound`.
  bool exceeds(const extent& bound) const {
    return entries > bound.entries || weight > bound.weight;
  }

  extent& operator+=(const extent& x) {
    entries += x.entries;
    weight += x.weight;
    return *this;
  }

  extent& operator-=(const extent& x) {
    entries -= x.entries;
    weight -= x.weight;
    return *this;
  }
};

/// Decides which entries leave a bounded cache.
///
/// Entries are known by id, a small dense integer the owner allocates and reuses, and by a
/// 32-bit hash of their key (frequency-based policies count keys, including keys that are
/// not resident). A policy holds both bounds of its capacity at once: after `insert` or
/// `update` neither the number of entries nor their total weight exceeds it. Victims are
/// appended to a vector the caller owns and reuses, so no call allocates apart from
/// amortised growth of per-id arrays; a policy has forgotten its victims when it returns.
class eviction_policy {
public:
  virtual ~eviction_policy() = default;

  /// A read found entry `id`.
  virtual void record_access(uint32_t id) = 0;

  /// A read found no entry for a key with this hash.
  virtual void record_miss(uint32_t hash) = 0;

  /// Adds entry `id`. Victims may include `id` itself: the policy rejected it.
  virtual void insert(uint32_t id, uint32_t hash, uint32_t weight,
                      std::vector<uint32_t>& victims) = 0;

  /// Entry `id` got a new value of `weight`. A write, not a read: it refreshes recency but
  /// adds no frequency. Victims may include `id` itself.
  virtual void update(uint32_t id, uint32_t weight, std::vector<uint32_t>& victims) = 0;

  /// Forgets entry `id`, which the owner removed (no-op if the policy does not hold it).
  virtual void remove(uint32_t id) = 0;

  /// Forgets every entry.
  virtual void clear() = 0;

  /// Entries and weight held.
  virtual extent held() const = 0;
};

} // namespace mtcache::detail

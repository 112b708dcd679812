#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "messages/bytes.hpp"
#include "messages/config.hpp"

namespace mtcache {

/// Counters kept by a `memory_store`.
struct memory_store_counters {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;
  uint64_t expirations = 0;
};

/// A bounded in-memory map with per-entry TTL, optional time-to-idle and a pluggable
/// eviction policy: the engine of the memory tier, with no actor code in it.
///
/// Time is passed in by the caller as milliseconds on a monotonic clock, so the store has no
/// clock of its own and tests control time. Not thread-safe: it has one owner.
class memory_store {
public:
  struct found {
    bytes value;
    /// Remaining time to live in ms; -1 when the entry never expires.
    int64_t ttl_ms = -1;
  };

  explicit memory_store(const memory_tier_config& cfg);
  ~memory_store();
  memory_store(const memory_store&) = delete;
  memory_store& operator=(const memory_store&) = delete;

  /// The live value of `key`. Counts a hit or a miss, tells the policy, refreshes the idle
  /// deadline. An expired entry found here is dropped (lazy expiry) and counts as a miss.
  std::optional<found> get(std::string_view key, int64_t now_ms);

  /// A value that expired less than `fail_safe_window` ago (for fail-safe); counts nothing.
  std::optional<found> get_stale(std::string_view key, int64_t now_ms);

  /// Whether a live value exists; counts nothing and does not touch the policy.
  bool contains(std::string_view key, int64_t now_ms) const;

  /// Inserts or replaces. `ttl_ms <= 0` means no expiry. Evicts as needed: expired entries
  /// first, then victims of the policy. Returns false when the entry was not kept (it alone
  /// exceeds `max_weight`, or the policy rejected it at once).
  bool put(std::string_view key, bytes value, int64_t ttl_ms, int64_t now_ms);

  /// Removes `key`; returns whether it was present (expired entries count as absent).
  bool remove(std::string_view key);

  /// Removes every entry whose key satisfies `pred`; returns how many live ones it removed.
  size_t remove_if(const std::function<bool(std::string_view)>& pred);

  /// Removes everything; returns how many entries it removed.
  size_t clear();

  /// Drops entries whose TTL or idle time ran out (and, with a fail-safe window, whose
  /// window ran out too); returns how many expired.
  size_t expire(int64_t now_ms);

  /// Entries held (including expired ones kept for fail-safe).
  uint64_t size() const;

  /// Sum of entry weights (key + value bytes).
  uint64_t weight() const;

  const memory_store_counters& counters() const;

private:
  // Filled in by the implementation.
};

} // namespace mtcache

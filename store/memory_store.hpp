#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "mtcache/messages/bytes.hpp"
#include "mtcache/messages/config.hpp"
#include "mtcache/store/eviction_policy.hpp"
#include "mtcache/store/hash_index.hpp"
#include "mtcache/store/id_lists.hpp"
#include "mtcache/store/timer_wheel.hpp"

namespace mtcache::detail {

class read_view;
struct access_record;

/// Counters kept by a `memory_store`.
struct memory_store_counters {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;
  uint64_t expirations = 0;
  /// Of `expirations`: entries whose idle time ran out before their TTL.
  uint64_t idle_expirations = 0;
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

  /// Publishes every change to `view` from now on, before the call that made it returns:
  /// live entries only, with their TTL deadline. `view` must outlive the store or be detached
  /// (nullptr); it starts empty.
  void attach(read_view* view);

  /// A read the view served: tells the policy and restarts the idle time, as `get` does for
  /// a hit, but counts no hit (the view counts its own). Ignored if the entry is gone or its
  /// id now holds another key.
  void record_read(const access_record& read);

private:
  // Layout, per entry: its block (key and value in one allocation) in `blocks_`, a state
  // byte, a slot in `index_`, links and a deadline in `wheel_` if it expires, the policy's
  // own per-id arrays, and (only with time-to-idle) its TTL deadline. A live entry's wheel
  // time is when it expires; a stale one's is when its fail-safe window ends.
  enum class entry_state : uint8_t { free, live, stale };

  uint32_t find(std::string_view key, uint32_t hash) const;

  uint32_t allocate();

  /// Turns live entry `id`, whose time ran out, into a stale one or drops it.
  void expire_entry(uint32_t id, int64_t now_ms);

  /// Removes `id` from everything but the policy (which forgot it already).
  void erase(uint32_t id);

  /// Removes `id` from the policy too, if it is live there.
  void remove_entry(uint32_t id);

  bool is_live(uint32_t id, int64_t now_ms) const;

  int64_t remaining_ttl(uint32_t id, int64_t now_ms) const;

  uint64_t weight_of(uint32_t id) const;

  uint64_t max_entries_;
  uint64_t max_weight_;
  int64_t time_to_idle_ms_;
  int64_t fail_safe_ms_;
  std::vector<bytes> blocks_;
  std::vector<entry_state> states_;
  std::vector<uint32_t> free_ids_;
  std::vector<int64_t> ttl_deadlines_;
  hash_index index_;
  timer_wheel wheel_;
  id_lists stale_;
  std::unique_ptr<eviction_policy> policy_;
  std::vector<uint32_t> due_;
  std::vector<uint32_t> victims_;
  uint64_t weight_ = 0;
  memory_store_counters counters_;
  read_view* view_ = nullptr;
};

} // namespace mtcache::detail

#pragma once

// A read view of the memory tier: a hash table that threads read without a message and
// without a lock, and that only the memory tier writes (Caffeine's read path, with the actor
// as its one writer and as the drain of its access buffers).
//
// The table is open addressing with linear probing over atomic pointers to immutable entries
// (key and value in the store's own refcounted block, the TTL deadline, the store id). The
// writer replaces a pointer to publish, writes a tombstone to withdraw, and rebuilds the
// table into a new one when tombstones and entries fill half of it; what it unlinks is freed
// through `epoch_domain` once no reader can hold it. A reader pins an epoch, probes, checks
// the deadlines, hands the value to its caller and records the hit in `access_buffer`.
//
// Consistency: the memory tier publishes every change to its store here before it replies,
// and every pointer store and load is sequentially consistent, so a read that starts after a
// write was acknowledged sees that write or a later one. Expiry is checked on read against the
// entry's absolute deadline. Time-to-idle is measured from the last read this view saw (a
// reader stores its time in the entry; the tier stores the time of reads it served itself),
// so a view read never returns an entry idle for longer than that; the store expires from
// the reads drained to it, which may lag or lose some (it then expires earlier, never later).
//
// bench/view_bench.cpp measures it against a plain std::unordered_map, and against the
// designs it was chosen over (bench/alternative_views.hpp): shards behind std::shared_mutex,
// where every reader writes the shard's lock word, and std::atomic_load on shared_ptr, which
// libstdc++ implements with a global table of mutexes.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "mtcache/messages/bytes.hpp"
#include "mtcache/store/access_buffer.hpp"
#include "mtcache/store/epoch_domain.hpp"
#include "mtcache/store/tag_clock.hpp"

namespace mtcache::detail {

class read_view {
public:
  static constexpr int64_t never = INT64_MAX;

  /// `time_to_idle_ms` as the store's (0: none); `level` is what hits report as their tier.
  read_view(int64_t time_to_idle_ms, uint32_t level);
  ~read_view();
  read_view(const read_view&) = delete;
  read_view& operator=(const read_view&) = delete;

  // -- readers: any thread --------------------------------------------------------------

  /// Values up to this size are copied into the entry, next to its key: a reader then touches
  /// one allocation, and can copy the value out instead of sharing the store's block, whose
  /// reference count two threads reading one hot key would fight over (view_bench measures
  /// both: a copy of 64 bytes was twice as fast on 2 threads).
  static constexpr size_t inline_limit = 256;

  /// On a live entry of `key` at `now_ms`: calls `fn(std::string_view value, const bytes&
  /// block, int64_t ttl_ms)` (ttl -1: none) while the entry cannot be freed, records the hit
  /// and returns true. `value` is valid during the call only; `block` is the store's
  /// refcounted value, to keep.
  template <class F>
  bool read(std::string_view key, int64_t now_ms, F&& fn) const {
    auto hash = hash_of(key);
    epoch_domain::guard pinned;
    auto* e = find(key, hash);
    if (e == nullptr || now_ms >= e->ttl_deadline)
      return false;
    if (time_to_idle_ms_ > 0) {
      auto last = e->last_access.load(std::memory_order_relaxed);
      if (now_ms >= last + time_to_idle_ms_)
        return false;
      if (now_ms > last)
        e->last_access.store(now_ms, std::memory_order_relaxed);
    }
    fn(e->value(), e->block, e->ttl_deadline == never ? int64_t{-1} : e->ttl_deadline - now_ms);
    accesses_.record({e->id, fold(hash), now_ms});
    return true;
  }

  uint32_t level() const noexcept { return level_; }

  /// The removal times of tags that readers check values with tags against (see
  /// `tag_clock`); set once, before the view is shared.
  void use_tags(std::shared_ptr<const tag_clock> clock) noexcept { tags_ = std::move(clock); }
  const tag_clock* tags() const noexcept { return tags_.get(); }

  /// Hits served, exactly (whether or not their access record was dropped).
  uint64_t hits() const noexcept { return accesses_.hits(); }

  // -- the writer: one thread at a time (the memory tier) ---------------------------------

  /// Makes `block` (key and value, as the store holds it) the value of its key.
  void publish(const bytes& block, int64_t ttl_deadline, uint32_t id, int64_t now_ms);

  /// Removes `key`; a no-op if absent.
  void withdraw(std::string_view key);

  /// A read of `key` served elsewhere (the tier itself) at `now_ms`: restarts its idle time.
  void touch(std::string_view key, int64_t now_ms);

  /// Removes every entry.
  void clear();

  /// Frees what no reader can reach any more. Cheap to call often.
  void reclaim();

  /// The buffer readers record into; the writer drains it.
  access_buffer& accesses() noexcept { return accesses_; }

  /// Entries held (the writer's view of it).
  size_t size() const noexcept { return live_; }

  /// The store's 32-bit key hash, derived from the same 64-bit hash the view uses.
  static uint32_t fold(uint64_t hash) noexcept {
    return static_cast<uint32_t>(hash ^ (hash >> 32));
  }

  static uint64_t hash_of(std::string_view key) noexcept {
    return std::hash<std::string_view>{}(key);
  }

private:
  // Immutable but for `last_access`. The key, and a value up to `inline_limit`, follow it in
  // the same allocation.
  struct entry {
    uint64_t hash;
    int64_t ttl_deadline;
    mutable std::atomic<int64_t> last_access;
    uint32_t id;
    uint32_t key_size;
    // Here, so that a reader of an inline value never touches the store's block.
    uint32_t value_size;
    bool inline_value;
    // The store's block: the key, then the value (which is all `bytes` shows of it).
    bytes block;

    std::string_view key() const noexcept {
      return {reinterpret_cast<const char*>(this + 1), key_size};
    }

    std::string_view value() const noexcept {
      return inline_value ? std::string_view{key().data() + key_size, value_size} : block.view();
    }
  };

  static const entry* make_entry(const bytes& block, uint64_t hash, int64_t ttl_deadline,
                                 uint32_t id, int64_t now_ms);

  static void destroy(const entry* e) noexcept;

  struct table {
    explicit table(size_t capacity);
    size_t mask;
    std::unique_ptr<std::atomic<const entry*>[]> slots;
  };

  const entry* find(std::string_view key, uint64_t hash) const noexcept {
    auto* t = table_.load(std::memory_order_seq_cst);
    for (size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
      auto* e = t->slots[i].load(std::memory_order_seq_cst);
      if (e == nullptr)
        return nullptr;
      if (e != tombstone() && e->hash == hash && e->key() == key)
        return e;
    }
  }

  // Marks a withdrawn slot; a constant address, so that a probe compares without a call.
  static const entry tombstone_;
  static const entry* tombstone() noexcept { return &tombstone_; }

  /// The slot holding `key` in the current table, or its first free one (the second is
  /// false then).
  std::pair<size_t, bool> locate(std::string_view key, uint64_t hash) const;

  void retire(const entry* e);
  void rebuild(size_t capacity);

  int64_t time_to_idle_ms_;
  uint32_t level_;
  std::shared_ptr<const tag_clock> tags_;
  std::atomic<table*> table_;
  mutable access_buffer accesses_;
  // Writer only.
  size_t live_ = 0;
  size_t used_ = 0;
  std::vector<std::pair<uint64_t, const entry*>> retired_entries_;
  std::vector<std::pair<uint64_t, table*>> retired_tables_;
};

} // namespace mtcache::detail

#pragma once

// Writes and removals that failed on a shared tier, kept to re-apply when it is back.
//
// A set made while Redis is away lands in L1 only (acknowledged as partial). Without
// repair, the other nodes go on reading the old value from Redis while this node serves
// the new one, until the TTL. So the coordinator keeps, per shared tier, the newest failed
// change per key (a value with its expiry, or a removal) and failed pattern removals, and
// re-applies them once the tier answers again and the node has caught up on other nodes'
// changes; then the repaired keys are published, so that every node drops its copy and
// reads the repaired value.
//
// A repair must not undo a newer change another node made meanwhile. Every held change keeps
// when it was made (Unix time, as changes between nodes are stamped); another node's change
// made at the same time or later drops it. One that arrives while a repair of its key is on
// the wire, or shortly after it landed, may have been overwritten by it: such keys are
// removed from the tier again (compensated), so that every node misses rather than reads
// an older value. Changes that do not say when they were made (a compacted backlog,
// another node's repair: `invalidation::reread`) leave held changes alone; the repairs then
// land in some order and every node reads what Redis kept.
//
// Bounded: past `max_bytes` of held values, writes are kept as removals (the key still
// converges, to a miss); past `max_keys` keys, a change is dropped and counted.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "mtcache/messages/bytes.hpp"
#include "mtcache/messages/lookup.hpp"

namespace mtcache::detail {

class repair_table {
public:
  struct limits {
    size_t max_keys = 100000;
    size_t max_bytes = 64 * 1024 * 1024;
    /// How long after a repair landed a remote change of its key still counts as one it
    /// may have overwritten (a change's invalidation arrives well within this).
    int64_t settle_ms = 1000;
  };

  /// What to re-apply to one tier now.
  struct batch {
    size_t tier = 0;
    std::vector<tier_write> writes;
    std::vector<std::string> removals;
    std::vector<std::string> patterns;

    bool empty() const { return writes.empty() && removals.empty() && patterns.empty(); }
  };

  repair_table() : repair_table(limits{}) {}
  explicit repair_table(limits lim) : lim_(lim) {}

  /// A write of `key`, made at `written_ms` (Unix time), failed on shared tier `tier`;
  /// `expires_ms` is when the value expires on the steady clock (0: never).
  void failed_write(size_t tier, const std::string& key, const bytes& value, int64_t expires_ms,
                    int64_t written_ms);

  void failed_removal(size_t tier, const std::string& key, int64_t written_ms);

  void failed_pattern(size_t tier, const std::string& pattern);

  /// This node sends a newer change of `key` to its tiers: a held change of the key is
  /// moot, whatever becomes of the newer one (if it fails, it is held itself), and so is a
  /// repair of it on the wire if it fails. Called when the change is sent, not when it is
  /// answered: a repair sent after it would land after it.
  void overtaken(const std::string& key);

  /// As `overtaken`, for every held key `matches` accepts (a pattern removal).
  template <class Matches>
  void overtaken_matching(Matches matches) {
    for (auto& held : tiers_)
      for (auto i = held.second.entries.begin(); i != held.second.entries.end();)
        i = matches(i->first) ? (++superseded_, erase(held.second, i)) : std::next(i);
  }

  /// Another node changed `key` at `changed_ms` (Unix time; 0: it does not say). Drops held
  /// changes of it made no later; true if a repair of it made no later is on the wire or
  /// landed within `settle_ms` and may have overwritten the remote change: the key must then
  /// be removed from the shared tiers.
  bool remote_change(const std::string& key, int64_t now_ms, int64_t changed_ms);

  /// Another node removed every key a pattern matches (`matches` tells which) at
  /// `changed_ms`, as `remote_change` for each of them (without undoing repairs).
  template <class Matches>
  void remote_pattern(Matches matches, int64_t changed_ms) {
    for (auto& held : tiers_)
      for (auto i = held.second.entries.begin(); i != held.second.entries.end();)
        i = changed_ms != 0 && i->second.written_ms <= changed_ms && matches(i->first)
                ? erase(held.second, i)
                : std::next(i);
  }

  /// Takes what tier `tier` holds, at most `max` keys (and every pattern), as a batch to
  /// re-apply now: writes with the TTL they have left, expired ones as removals. Marks
  /// its keys as on the wire.
  batch take(size_t tier, int64_t now_ms, size_t max = 1000);

  /// The batch reached its tier: its keys count as just repaired (see `remote_change`).
  void applied(const batch& b, int64_t now_ms);

  /// The batch did not reach its tier: its changes are held again, unless a newer one of
  /// the same key (ours or another node's) came meanwhile.
  void failed(batch b, int64_t now_ms);

  /// Tiers that hold something to re-apply.
  std::vector<size_t> tiers_pending() const;

  /// Keys and patterns held for `tier` (or for every tier).
  size_t pending(size_t tier) const;
  size_t pending() const;

  uint64_t recorded() const { return recorded_; }
  uint64_t repaired() const { return repaired_; }
  uint64_t superseded() const { return superseded_; }
  uint64_t dropped() const { return dropped_; }
  uint64_t degraded() const { return degraded_; }

private:
  struct entry {
    bool removal = false;
    bytes value;
    int64_t expires_ms = 0;
    int64_t written_ms = 0;
  };

  struct tier_entries {
    std::unordered_map<std::string, entry> entries;
    std::vector<std::string> patterns;
  };

  using iterator = std::unordered_map<std::string, entry>::iterator;

  iterator erase(tier_entries& held, iterator i);
  void hold(size_t tier, const std::string& key, entry e);

  limits lim_;
  std::map<size_t, tier_entries> tiers_;
  size_t bytes_ = 0;
  size_t keys_ = 0;
  struct recent {
    // When the repair landed; 0 while it is on the wire.
    int64_t landed_ms = 0;
    // A newer change came while the repair was on the wire: if it fails, it stays dropped.
    bool moot = false;
    // When the repaired change was made.
    int64_t written_ms = 0;
  };

  // Keys on the wire or repaired recently.
  std::unordered_map<std::string, recent> recent_;
  uint64_t recorded_ = 0;
  uint64_t repaired_ = 0;
  uint64_t superseded_ = 0;
  uint64_t dropped_ = 0;
  uint64_t degraded_ = 0;
};

} // namespace mtcache::detail

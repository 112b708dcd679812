#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mtcache::detail {

/// When each tag was last removed (unix µs), for one node: a value written with a tag at or
/// before that time is gone. Removal is this one record, not a walk over the values, which is
/// why removing a tag carried by any number of entries takes constant time on every node;
/// readers compare as they serve (FusionCache's tagging works the same way).
///
/// Shared by the actors of a node that hand out values (the coordinator and its flights, the
/// memory tiers and the lock-free read view), so it takes a lock: readers share it, only the
/// coordinator writes. A tag is "known" once this node has its removal time, from its own
/// removal, another node's message or a read of the time a shared tier keeps; tags it does
/// not know are looked up there before a value carrying them is served (after a restart, say).
class tag_clock {
public:
  /// Records a removal of `tag` at `removed_us` (the later time wins).
  void removed(const std::string& tag, int64_t removed_us);

  /// Records that `tag` was never removed, as a shared tier said, unless it is known already.
  void never_removed(const std::string& tag);

  /// Whether a value written at `created_us` with `tags` is hidden by a removal. Tags not
  /// known count as not removed: callers that may see such values resolve them first.
  bool hides(int64_t created_us, const std::vector<std::string_view>& tags) const;

  /// Those of `tags` with no known removal time.
  std::vector<std::string> unknown(const std::vector<std::string_view>& tags) const;

  /// Forgets which tags were never removed, after this node may have missed messages: they are
  /// looked up again. Removal times stay (they only ever grow).
  void forget_unremoved();

  /// Drops removal times at or before `before_us` (past the cache's tag_retention), once the
  /// clock has grown to twice its size after the last drop: amortised constant per removal.
  void drop_removed_before(int64_t before_us);

  size_t size() const;

  /// Past this many known-unremoved tags the oldest knowledge is dropped (looked up again).
  static constexpr size_t max_unremoved = 100'000;

private:
  mutable std::shared_mutex mtx_;
  // Removal time per tag; 0 for a tag known never to have been removed.
  std::unordered_map<std::string, int64_t> times_;
  size_t unremoved_ = 0;
  size_t kept_after_drop_ = 0;
};

} // namespace mtcache::detail

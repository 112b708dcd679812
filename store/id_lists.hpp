#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mtcache::detail {

/// A fixed number of circular doubly linked lists threaded through entry ids.
///
/// Links are `uint32_t` node numbers in two arrays, so a linked id costs 8 bytes and linking
/// never allocates beyond amortised growth of the arrays. Every list has a sentinel node
/// (node `i` for list `i`; id `x` is node `list_count + x`), so an id can be unlinked without
/// knowing which list holds it. An id is in at most one list at a time.
class id_lists {
public:
  static constexpr uint32_t nil = UINT32_MAX;

  explicit id_lists(uint32_t list_count);

  bool empty(uint32_t list) const { return next_[list] == list; }

  /// The first id of `list`, or `nil`.
  uint32_t front(uint32_t list) const { return to_id(next_[list]); }

  /// The last id of `list`, or `nil`.
  uint32_t back(uint32_t list) const { return to_id(prev_[list]); }

  /// The id after `id` in its list, or `nil` at the end.
  uint32_t next(uint32_t id) const { return to_id(next_[node(id)]); }

  /// The id before `id` in its list, or `nil` at the start.
  uint32_t prev(uint32_t id) const { return to_id(prev_[node(id)]); }

  bool linked(uint32_t id) const {
    auto n = size_t{node(id)};
    return n < next_.size() && next_[n] != nil;
  }

  void push_back(uint32_t list, uint32_t id) { link_before(list, node(id)); }

  void push_front(uint32_t list, uint32_t id) { link_before(next_[list], node(id)); }

  /// Makes room for ids below `count` now, so that linking them later cannot allocate.
  void grow_to(size_t count);

  /// Unlinks `id` if it is linked. Inline, as `link_before`: the policy calls both on
  /// every request.
  void unlink(uint32_t id) {
    auto n = node(id);
    if (n >= next_.size() || next_[n] == nil)
      return;
    next_[prev_[n]] = next_[n];
    prev_[next_[n]] = prev_[n];
    next_[n] = nil;
    prev_[n] = nil;
  }

  void move_to_back(uint32_t list, uint32_t id) {
    unlink(id);
    push_back(list, id);
  }

  /// Appends all ids of `from`, in order, to `to` and leaves `from` empty. O(1).
  void splice_back(uint32_t to, uint32_t from);

  /// Empties every list.
  void clear();

private:
  uint32_t node(uint32_t id) const { return list_count_ + id; }

  uint32_t to_id(uint32_t n) const { return n < list_count_ ? nil : n - list_count_; }

  void link_before(uint32_t at, uint32_t n) {
    if (n >= next_.size())
      grow_for(n);
    auto before = prev_[at];
    prev_[n] = before;
    next_[n] = at;
    next_[before] = n;
    prev_[at] = n;
  }

  /// Makes room for node `n`.
  void grow_for(uint32_t n);

  uint32_t list_count_;
  std::vector<uint32_t> prev_;
  std::vector<uint32_t> next_;
};

} // namespace mtcache::detail

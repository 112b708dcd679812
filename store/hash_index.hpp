#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mtcache::detail {

/// An open-addressing index from a 32-bit key hash to entry ids: the map of `memory_store`.
///
/// A slot is 8 bytes (id and hash), probed linearly from `hash & mask`; deletion shifts the
/// following run back instead of leaving tombstones, so lookups never slow down with churn.
/// The hash is kept per slot so that most mismatches are rejected without touching the
/// entry, and so that growing the table never reads the keys. Keys are compared by the
/// caller's `match(id)`, which lets the keys live in the entries' own blocks.
class hash_index {
public:
  static constexpr uint32_t nil = UINT32_MAX;

  /// The id stored under `hash` for which `match(id)` holds, or `nil`.
  template <class Match>
  uint32_t find(uint32_t hash, Match&& match) const {
    if (slots_.empty())
      return nil;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const auto& s = slots_[i];
      if (s.id == nil)
        return nil;
      if (s.hash == hash && match(s.id))
        return s.id;
    }
  }

  /// Adds `id` under `hash`; the caller makes sure its key is not present yet.
  void insert(uint32_t hash, uint32_t id);

  /// Removes `id`, stored under `hash`; a no-op if it is absent.
  void erase(uint32_t hash, uint32_t id);

  size_t size() const { return size_; }

  /// Removes every id and releases the table.
  void clear();

private:
  struct slot {
    uint32_t id;
    uint32_t hash;
  };

  void grow();

  std::vector<slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

} // namespace mtcache::detail

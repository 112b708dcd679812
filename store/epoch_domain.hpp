#pragma once

// Epoch-based reclamation (Fraser, "Practical lock-freedom", 2004) for memory that one writer
// unlinks while readers on any thread may still hold a pointer into it: the read view's
// entries and tables. A reader pins the current epoch in a slot of its own for the length of
// one lookup; the writer stamps what it unlinks with the epoch and frees it once every pinned
// epoch is newer. Readers write only their own cache line (no reference count on shared
// data), which is what lets hits scale across threads; see bench/view_bench.cpp for the
// alternatives measured.
//
// Every operation on the epoch and the slots is sequentially consistent: a reader's pin is
// ordered before its loads of shared pointers, and the writer's unlink before its scan of the
// slots, without standalone fences (which ThreadSanitizer does not model).

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace mtcache::detail {

class epoch_domain {
public:
  /// Threads that can pin at once with a slot of their own; more fall back to a shared
  /// counter that holds back all reclamation while it is non-zero.
  static constexpr size_t max_slots = 128;

  /// One domain per process: a thread claims its slot once, whatever view it reads.
  static epoch_domain& instance();

  /// Pins the current epoch on this thread while alive. Nests.
  class guard {
  public:
    guard() noexcept;
    ~guard();
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;
  };

  /// The epoch to stamp on memory just unlinked.
  uint64_t current() const noexcept { return epoch_.load(std::memory_order_seq_cst); }

  /// Starts a new epoch and returns the oldest epoch still pinned (UINT64_MAX if none):
  /// memory stamped with an older epoch is no longer reachable by any reader.
  uint64_t advance() noexcept;

private:
  struct alignas(64) slot {
    std::atomic<uint64_t> pinned{0};
    std::atomic<bool> taken{false};
  };

  friend class guard;

  void pin() noexcept;
  void unpin() noexcept;

  alignas(64) std::atomic<uint64_t> epoch_{1};
  alignas(64) std::atomic<uint64_t> overflow_readers_{0};
  slot slots_[max_slots];
};

} // namespace mtcache::detail

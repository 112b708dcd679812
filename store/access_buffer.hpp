#pragma once

// Where readers of the read view leave their hits for the memory tier's policy, as Caffeine's
// StripedBuffer / BoundedBuffer do: a fixed set of stripes, each a bounded ring that many
// threads append to and one owner drains (Vyukov's bounded queue, one sequence number per
// cell). A thread keeps the stripe it was given first (round robin, so the first `stripes`
// threads never share one, which a hash of the thread id does not promise). A full ring drops
// the record and counts it: the policy then misses a read, a reader never waits for it.
//
// Every `drain_every` records on a stripe, and when one drops, the buffer asks its owner for a
// drain through a callback (at most one request outstanding), so that a read-only workload is
// still drained without a timer per read.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>

namespace mtcache::detail {

/// A read the view answered: the store's entry id, its key's 32-bit hash (to tell a reused id
/// apart), and when (ms on the store's clock).
struct access_record {
  uint32_t id = 0;
  uint32_t hash = 0;
  int64_t time_ms = 0;
};

class access_buffer {
public:
  /// Caffeine: 4 x CPUs stripes at most; 16 leaves room for the readers of a few cores.
  static constexpr size_t stripes = 16;
  /// Caffeine's BoundedBuffer ring holds 16; ours is drained by a message, not inline on the
  /// reader's thread, so it needs room for a mailbox's latency (~10 us at 10 M reads/s).
  static constexpr size_t ring_size = 256;
  static constexpr size_t drain_every = ring_size / 2;

  access_buffer();
  access_buffer(const access_buffer&) = delete;
  access_buffer& operator=(const access_buffer&) = delete;

  /// Records a hit from any thread. Returns false if the record was dropped (still a hit).
  bool record(const access_record& rec) noexcept;

  /// Hands every record in the rings to `fn`, in order per stripe. One thread at a time (the
  /// owner). Clears the pending drain request first, so a record after it asks again.
  template <class F>
  size_t drain(F&& fn) {
    drain_requested_.store(false, std::memory_order_seq_cst);
    size_t n = 0;
    for (auto& s : stripes_) {
      for (;;) {
        auto& c = s.cells[s.head % ring_size];
        if (c.seq.load(std::memory_order_acquire) != s.head + 1)
          break;
        fn(static_cast<const access_record&>(c.value));
        c.seq.store(s.head + ring_size, std::memory_order_release);
        ++s.head;
        ++n;
      }
    }
    return n;
  }

  /// Reads recorded or dropped: every hit of the view, exactly.
  uint64_t hits() const noexcept;

  /// Records dropped because their ring was full.
  uint64_t drops() const noexcept;

  /// Called (from a reader's thread) when a drain is due and none was requested since the
  /// last `drain`. Must not block; the memory tier sends itself a message.
  void on_drain_due(std::function<void()> fn);

private:
  struct cell {
    std::atomic<uint64_t> seq{0};
    access_record value;
  };

  struct alignas(64) stripe {
    std::atomic<uint64_t> tail{0};
    std::atomic<uint64_t> drops{0};
    // The owner's cursor, on a line of its own.
    alignas(64) uint64_t head = 0;
    cell cells[ring_size];
  };

  void request_drain() noexcept;

  stripe stripes_[stripes];
  alignas(64) std::atomic<bool> drain_requested_{false};
  std::mutex callback_mtx_;
  std::function<void()> drain_due_;
};

} // namespace mtcache::detail

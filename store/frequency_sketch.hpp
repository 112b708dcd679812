#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace mtcache::detail {

/// Estimates how often each key was seen recently: the popularity history of W-TinyLFU.
///
/// A count-min sketch (Cormode & Muthukrishnan, 2005) of 4-bit counters, 16 per 64-bit word,
/// depth 4. The table has one word per entry of capacity (rounded up to a power of two, at
/// least 256), which Caffeine found gives an error bound of e / (4 * words) at 93.75%
/// confidence.
///
/// Each of a key's four counters sits in a word picked by its own hash, as in Caffeine 2.x
/// (one 64-bit mix gives all four up to 2^14 words). Caffeine 3 keeps all four in one
/// 64-byte block so that an update touches one cache line; but then keys that share a
/// block collide in several rows at once, and the minimum over the rows over-counts more.
/// A sample of a skewed trace holds about as many distinct keys as a row has counters, so
/// that shows: independent rows gain 0.05% to 0.3% of hit ratio on our traces (most on
/// shift at capacity 1 000) for no measurable replay time.
///
/// Increments are conservative (Estan & Varghese, SIGCOMM 2002): only the key's smallest
/// counters grow, which never under-counts and over-counts colliding keys less than
/// Caffeine's increment-all (about +0.1% hit rate on zipf at capacity 10 000).
///
/// Aging (TinyLFU, Einziger, Friedman & Manes, ACM ToS 2017, section 3.3): after
/// `sample_size()` (10 x capacity) increments every counter is halved, so the sketch
/// describes a sliding window of recent history and a once-hot key fades.
///
/// The optional doorkeeper (also from the TinyLFU paper) is a Bloom filter in front of the
/// counters: a key's first occurrence only sets its doorkeeper bits, and counting starts
/// from the second, so one-hit wonders do not occupy counters. It is cleared by aging. It
/// is off by default: clearing it at every aging loses more than it saves (0.3% of hit
/// ratio on zipf, however large the filter).
class frequency_sketch {
public:
  /// The largest value `frequency` returns without a doorkeeper (4-bit counters).
  static constexpr uint32_t max_count = 15;

  /// A sketch for `capacity` entries; 0 gives an unsized sketch that counts nothing until
  /// `ensure_capacity` sizes it (the policy does so once the cache is half full).
  explicit frequency_sketch(uint64_t capacity = 0, bool doorkeeper = false);

  /// Grows the table for `capacity` entries, forgetting all counts, if it is too small.
  void ensure_capacity(uint64_t capacity);

  /// The capacity the table was last sized for.
  uint64_t capacity() const { return capacity_; }

  /// Counts one occurrence of the key with this hash.
  void increment(uint32_t hash);

  /// The estimated count: never below the true count since the last aging (up to the
  /// saturation at 15; one more with a doorkeeper that has seen the key).
  uint32_t frequency(uint32_t hash) const;

  /// Halves every counter and clears the doorkeeper. Runs by itself every `sample_size()`
  /// increments.
  void age();

  uint64_t sample_size() const { return sample_size_; }

  /// Ages after `increments` instead (at least one); `ensure_capacity` restores the default.
  void set_sample_size(uint64_t increments) { sample_size_ = std::max<uint64_t>(increments, 1); }

  /// The aging period for the capacity: 10 x capacity increments.
  uint64_t default_sample_size() const;

  /// Size of the counter table in 64-bit words.
  size_t table_words() const { return table_.size(); }

private:
  /// Counters per key, one in each row.
  static constexpr uint32_t depth = 4;

  struct slots {
    uint32_t words[depth];
    uint32_t shifts[depth];
  };

  slots locate(uint32_t hash) const;

  std::pair<size_t, size_t> doorkeeper_bits(uint32_t hash) const;

  bool doorkeeper_test_and_set(uint32_t hash);

  bool doorkeeper_contains(uint32_t hash) const;

  std::vector<uint64_t> table_;
  std::vector<uint64_t> doorkeeper_;
  bool use_doorkeeper_;
  uint64_t capacity_ = 0;
  uint64_t sample_size_ = 0;
  uint64_t additions_ = 0;
  size_t word_mask_ = 0;
};

} // namespace mtcache::detail

#pragma once

#include <cstdint>

#include "mtcache/store/miniature_cache.hpp"

namespace mtcache::detail {

/// Watches W-TinyLFU against miniature replicas of the two policies it must never fall
/// behind, LRU and W-TinyLFU with Caffeine's fixed 1% window, and says when the window
/// should leap to the setting of the one that does better: most of the cache, then all of
/// it if LRU is still ahead (LRU), or 1%.
///
/// The hill climber (`window_climber`) moves the window by doubling or halving it, and keeps
/// a step only if it beats sampling noise. On a strongly recency-biased trace the first
/// steps, 1% to 2% to 4%, each gain less than the noise, although a window of 50% or more
/// gains 0.09 of hit ratio at capacity 1 000 (bench/policy_corpus, "recency far"); the
/// climber never sets out. A replica sees the far end directly. Keys are sampled by hash
/// (one in `rate()`), and each replica has capacity / rate entries, which predicts the
/// full-size hit rate of LRU closely (SHARDS) and of W-TinyLFU well enough to compare.
///
/// After every period (10 x replica capacity sampled requests, about as long as a
/// climber's sample) the real cache's hits on the sampled keys are compared with each
/// replica's, request by request (a paired test: only requests where the two differ
/// carry information). A replica that is ahead by more than three standard errors and by
/// at least half a percent wins a leap; the climber then starts over from there.
class window_referee {
public:
  /// No leap.
  static constexpr double stay = -1;

  /// For a cache of `capacity` entries whose window starts at `initial`. When LRU is ahead
  /// the window leaps to `recency`, and from there to `maximum`.
  window_referee(uint64_t capacity, double initial, double recency, double maximum);

  /// Whether requests for the key with this hash are sampled.
  bool sampled(uint32_t hash) const { return (mix(hash) & rate_mask_) == 0; }

  /// A sampled request, which the real cache did or did not hit; returns the window share
  /// to leap to, or `stay`.
  double record(uint32_t hash, bool hit, double share);

  /// One in how many keys is sampled.
  uint64_t rate() const { return rate_mask_ + 1; }

  /// Leaps so far.
  uint64_t leaps() const { return leaps_; }

private:
  struct tally {
    uint64_t ahead = 0;  // requests the replica hit and the real cache missed
    uint64_t behind = 0; // and the other way round
  };

  static uint32_t mix(uint32_t hash) {
    // Other bits than the replicas' and the sketch's indexes use.
    return static_cast<uint32_t>((uint64_t{hash} * 0xd6e8'feb8'6659'fd93u) >> 40);
  }

  /// Whether the replica of `t` is clearly ahead of the real cache.
  static bool ahead(const tally& t, double significance);

  uint64_t rate_mask_;
  uint64_t period_;
  /// Sampled requests between looks at the tallies.
  uint64_t look_;
  double initial_;
  double recency_;
  double maximum_;
  miniature_cache lru_;
  miniature_cache tinylfu_;
  tally lru_tally_;
  tally tinylfu_tally_;
  uint64_t requests_ = 0;
  uint64_t leaps_ = 0;
};

} // namespace mtcache::detail

#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "mtcache/store/eviction_policy.hpp"
#include "mtcache/store/frequency_sketch.hpp"
#include "mtcache/store/id_lists.hpp"
#include "mtcache/store/window_climber.hpp"

namespace mtcache::detail {

class window_referee;

struct tinylfu_options {
  /// Share of the capacity the admission window starts with (Caffeine: 1%).
  double window_fraction = 0.01;
  /// Whether hill climbing on the hit rate resizes the window (Caffeine since 2.7; our
  /// climber is `window_climber`).
  bool adaptive = true;
  /// Whether a doorkeeper Bloom filter sits in front of the frequency sketch.
  bool doorkeeper = false;
  /// Whether miniature replicas of LRU and of the initial fixed window (`window_referee`)
  /// may make an adaptive window leap to either (ours).
  bool referee = true;
  /// Seed of the random admissions that defend against hash flooding.
  uint64_t seed = 0x243f'6a88'85a3'08d3;
};

/// W-TinyLFU as Caffeine does it: an LRU admission window in front of a segmented LRU main
/// space, with a frequency sketch deciding which entries may move from one to the other.
///
/// New entries enter the window (1% of the capacity at first). When the cache is full, the
/// window's least recent entry becomes a candidate for the main space and is compared with
/// the main space's next victim, the least recent entry of probation: the candidate replaces
/// it only if its estimated frequency is higher (by more than one, see below), otherwise the
/// victim stays (Einziger, Friedman & Manes,
/// "TinyLFU: A Highly Efficient Cache Admission Policy", ACM ToS 2017). The window lets
/// bursts of new keys build up frequency; the main space resists scans. In main, a probation
/// hit moves the entry to protected (80% of main); protected overflow is demoted to
/// probation.
///
/// Weighted entries follow moka: probation victims are gathered until they cover the
/// candidate (as much of it as the cache is over its bounds), and the candidate is admitted
/// only if its frequency beats their sum by more than one (ours: Caffeine admits on any
/// lead, which on a loop swaps the key just requested for the next one to come round). A
/// warm candidate (frequency >= 6) that loses is still admitted with probability 1/128, so
/// that an attacker cannot pin hot victims by flooding colliding keys.
///
/// Hill climbing on the hit rate (after "Adaptive Software Cache Management", Middleware
/// 2018) resizes the window between one entry and the whole cache; see `window_climber`
/// for how it differs from Caffeine 3's. Protected keeps 80% of whatever main space is
/// left. Small steps cannot find a large window that only pays as a whole, so a
/// `window_referee` compares the cache with miniature replicas of LRU and of the fixed 1%
/// window on sampled keys and makes the window leap to 80% (100% if LRU is still ahead
/// there) or back to 1% when one of them is clearly ahead; the climber goes on from there.
/// A leap halves the sketch, and a large window shortens its aging period (and with it
/// the climber's sample), so that a workload that moves on is forgotten sooner.
///
/// Frequency counts reads: `record_access` and `record_miss` each add one; `insert` adds
/// none because the miss before it was counted already. Every operation is O(1), amortised
/// where the window is resized (at most 1000 entries move per call).
class tinylfu_policy final : public eviction_policy {
public:
  enum class queue : uint8_t { none, window, probation, protected_main };

  explicit tinylfu_policy(extent capacity, tinylfu_options options = {});

  ~tinylfu_policy() override;

  void record_access(uint32_t id) override;

  void record_miss(uint32_t hash) override;

  void insert(uint32_t id, uint32_t hash, uint32_t weight, std::vector<uint32_t>& victims) override;

  void update(uint32_t id, uint32_t weight, std::vector<uint32_t>& victims) override;

  void remove(uint32_t id) override;

  void clear() override;

  extent held() const override;

  /// Where `id` is, `queue::none` if the policy does not hold it.
  queue queue_of(uint32_t id) const {
    return id < placement_.size() ? placement_[id] : queue::none;
  }

  /// Entries and weight held in `q`.
  extent held_in(queue q) const { return held_[index(q)]; }

  extent window_limit() const { return window_limit_; }

  extent protected_limit() const { return protected_limit_; }

  const frequency_sketch& sketch() const { return sketch_; }

  const window_climber& climber() const { return climber_; }

  /// The referee, nullptr without one.
  const window_referee* referee() const { return referee_.get(); }

private:
  static uint32_t index(queue q) { return static_cast<uint32_t>(q) - 1; }

  void place(uint32_t id, queue q, bool at_front = false);

  void take(uint32_t id);

  void evict(std::vector<uint32_t>& victims);

  void evict_entry(uint32_t id, std::vector<uint32_t>& victims);

  void admit_or_reject(uint32_t candidate, std::vector<uint32_t>& victims);

  bool wins(uint32_t candidate_frequency, uint64_t victims_frequency);

  void demote_protected_overflow();

  void size_sketch();

  /// Shortens the sketch's aging period as the window grows.
  void age_by_window();

  void record_sample(bool hit, uint32_t hash);

  /// Gives the window `share` of the capacity; protected keeps 80% of the rest.
  void resize_window(double share);

  void update_limits();

  void rebalance();

  extent capacity_;
  tinylfu_options options_;
  frequency_sketch sketch_;
  id_lists queues_;
  std::vector<queue> placement_;
  std::vector<uint32_t> weights_;
  std::vector<uint32_t> hashes_;
  std::vector<uint32_t> gathered_;
  extent held_[3];
  double window_fraction_;
  double protected_fraction_;
  extent window_limit_;
  extent protected_limit_;
  window_climber climber_;
  std::unique_ptr<window_referee> referee_;
  bool full_ = false;
  bool rebalance_pending_ = false;
  uint64_t random_state_;
};

} // namespace mtcache::detail

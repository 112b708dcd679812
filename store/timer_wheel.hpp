#pragma once

#include <cstdint>
#include <vector>

#include "mtcache/store/id_lists.hpp"

namespace mtcache::detail {

/// A hierarchical timer wheel over entry ids, after Caffeine's `TimerWheel` (itself after
/// Varghese & Lauck, "Hashed and Hierarchical Timing Wheels", SOSP 1987).
///
/// Time is in milliseconds. Each level is a ring of buckets, each bucket a list of ids whose
/// deadlines fall in that bucket's span. Advancing the clock visits only the buckets whose
/// span has passed; an id found there that is not yet due is rescheduled relative to the new
/// time, which moves it down to a finer level (cascading). Every id is visited O(levels)
/// times in its life, so scheduling, cancelling and advancing are amortised O(1).
///
/// Caffeine's levels are {64, 64, 32, 4, 1} buckets spanning 2^30, 2^36, 2^42, 2^47 and
/// 2^49 ns (1.07 s, 1.14 min, 1.22 h, 1.63 d, 6.5 d). Here the same five levels use the
/// nearest power-of-two spans in milliseconds (1.02 s, 1.09 min, 1.17 h, 1.55 d, 6.2 d), and
/// one more level of 1024 one-millisecond buckets sits in front: Caffeine tolerates firing up
/// to one bucket late because reads check expiry themselves, but `memory_store` promises that
/// `expire(now)` removes everything due at `now`, so the finest bucket must be exact.
class timer_wheel {
public:
  static constexpr int64_t never = INT64_MAX;

  timer_wheel();

  /// The time of the last `advance`.
  int64_t now() const { return now_; }

  /// Schedules `id` to fire at `time`, replacing any earlier schedule; `never` cancels.
  void schedule(uint32_t id, int64_t time);

  /// Unschedules `id` (a no-op if it is not scheduled); `time_of(id)` becomes `never`.
  void cancel(uint32_t id);

  bool scheduled(uint32_t id) const { return buckets_.linked(id); }

  /// The time `id` was last scheduled for (kept after it fired), `never` if cancelled or
  /// never scheduled.
  int64_t time_of(uint32_t id) const { return id < times_.size() ? times_[id] : never; }

  /// Moves the clock to `now` and appends every id due by then (`time <= now`) to `due`,
  /// unscheduled. The clock never moves back: an earlier `now` does nothing.
  void advance(int64_t now, std::vector<uint32_t>& due);

  /// Unschedules everything; the clock stays where it is.
  void clear();

private:
  uint32_t bucket_for(int64_t time) const;

  id_lists buckets_;
  std::vector<int64_t> times_;
  int64_t now_ = 0;
};

} // namespace mtcache::detail

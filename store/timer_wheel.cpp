#include "mtcache/store/timer_wheel.hpp"

#include <algorithm>

namespace mtcache::detail {

namespace {

constexpr int level_count = 6;

// Level 0 is our exact millisecond level; levels 1..5 are Caffeine's {64, 64, 32, 4, 1}.
constexpr uint32_t bucket_counts[level_count] = {1024, 64, 64, 32, 4, 1};

// Bucket span of each level as a power of two in ms: 1 ms, 1.02 s, 1.09 min, 1.17 h,
// 1.55 d, 6.2 d. A level covers exactly one bucket of the level above it.
constexpr int shifts[level_count] = {0, 10, 16, 22, 27, 29};

constexpr uint32_t first_bucket[level_count] = {0, 1024, 1088, 1152, 1184, 1188};

constexpr uint32_t total_buckets = 1189;

// An extra list that holds the buckets being expired, so that rescheduling an id into the
// bucket under the cursor cannot make the sweep visit it twice.
constexpr uint32_t sweep_list = total_buckets;

int64_t ticks(int64_t time, int level) {
  // Arithmetic shift: GCC and Clang floor negative times, which keeps buckets consistent.
  return time >> shifts[level];
}

} // namespace

timer_wheel::timer_wheel() : buckets_(total_buckets + 1) {
  // nop
}

void timer_wheel::schedule(uint32_t id, int64_t time) {
  buckets_.unlink(id);
  if (time == never) {
    cancel(id);
    return;
  }
  if (id >= times_.size())
    times_.resize(size_t{id} + 1, never);
  times_[id] = time;
  buckets_.push_back(bucket_for(time), id);
}

void timer_wheel::cancel(uint32_t id) {
  buckets_.unlink(id);
  if (id < times_.size())
    times_[id] = never;
}

uint32_t timer_wheel::bucket_for(int64_t time) const {
  // Already due (the caller's clock ran behind ours): the current millisecond bucket is
  // visited again by the next advance.
  auto target = std::max(time, now_);
  auto duration = static_cast<uint64_t>(target) - static_cast<uint64_t>(now_);
  for (int level = 0; level + 1 < level_count; ++level) {
    if (duration < (uint64_t{1} << shifts[level + 1])) {
      auto index = static_cast<uint64_t>(ticks(target, level)) & (bucket_counts[level] - 1);
      return first_bucket[level] + static_cast<uint32_t>(index);
    }
  }
  return first_bucket[level_count - 1];
}

void timer_wheel::advance(int64_t now, std::vector<uint32_t>& due) {
  if (now <= now_)
    return;
  auto previous = now_;
  now_ = now;
  for (int level = 0; level < level_count; ++level) {
    auto from = ticks(previous, level);
    auto delta = static_cast<uint64_t>(ticks(now, level)) - static_cast<uint64_t>(from);
    if (delta == 0)
      break; // coarser levels cannot have ticked either
    // The bucket of the previous tick is visited again: ids may have been scheduled into it
    // after the last advance.
    auto steps = std::min<uint64_t>(delta + 1, bucket_counts[level]);
    auto mask = bucket_counts[level] - 1;
    for (uint64_t i = 0; i < steps; ++i) {
      auto index = (static_cast<uint64_t>(from) + i) & mask;
      buckets_.splice_back(sweep_list, first_bucket[level] + static_cast<uint32_t>(index));
    }
    for (auto id = buckets_.front(sweep_list); id != id_lists::nil;
         id = buckets_.front(sweep_list)) {
      buckets_.unlink(id);
      if (times_[id] <= now_)
        due.push_back(id);
      else
        buckets_.push_back(bucket_for(times_[id]), id);
    }
  }
}

void timer_wheel::clear() {
  buckets_.clear();
  times_.clear();
}

} // namespace mtcache::detail

#include "mtcache/store/tinylfu_policy.hpp"

#include "mtcache/store/window_referee.hpp"

#include <algorithm>
#include <cmath>

namespace mtcache::detail {

namespace {

using queue = tinylfu_policy::queue;

constexpr auto nil = id_lists::nil;

// Caffeine: PERCENT_MAIN_PROTECTED, the protected segment's share of the main space.
constexpr double protected_share_of_main = 0.8;

// Caffeine: ADMIT_HASHDOS_THRESHOLD; counters saturate at 15 and age to 7, so 6 is "warm".
constexpr uint32_t hash_flooding_threshold = 6;

// Caffeine admits a losing warm candidate when `(random & 127) == 0`: 1 in 128.
constexpr uint64_t random_admission_mask = 127;

// Ours: below 0.1% of the capacity a window's size makes no measurable difference, so the
// climber's smallest step is 1/1024 of the capacity (or one entry, if that is more).
constexpr double min_window_step = 1.0 / 1024;

// Ours: the climber's samples are 10 x capacity requests (Caffeine) but at least this many,
// so that a small cache measures its hit rate as precisely as one of 1000 entries.
constexpr uint64_t min_climber_sample = 10000;

// Caffeine: QUEUE_TRANSFER_THRESHOLD, entries moved per call when the window is resized.
constexpr uint32_t queue_transfer_limit = 1000;

constexpr uint64_t unbounded = UINT64_MAX;

// Ours: a candidate must lead its victims by more than one count. On a loop longer than
// the cache every key has the same count, but the candidate has just been requested and the
// victim, the least recent entry, is the next to come round; a lead of one would swap them
// every time and keep the cache missing (loop of 5 000 at capacity 2 500: 0.433 with a lead
// of one, 0.492 with two; zipf, scan and shift at 250 to 10 000 gain 0.001 to 0.005, zipf at
// 20 000 loses 0.0007 while the cold cache fills).
constexpr uint32_t admission_margin = 1;
static_assert(admission_margin < hash_flooding_threshold,
              "a candidate that cannot beat a victim never seen must not be randomly admitted");

// Ours: the window may take the whole cache, which makes the policy LRU.
constexpr double max_window_share = 1.0;

// Ours: where the referee first sends the window when LRU does better. Not all of the
// cache: a main space of 20% keeps the long-term hot set through a phase of recency, which
// a multiprogrammed mix comes back to ("multi phases" at 20 000: 0.587 with 100%, 0.605
// with 80%); if LRU is still ahead there, the referee sends it on to 100%.
constexpr double recency_window_share = 0.8;

// Ours: with a large window the sketch ages after as little as a fifth of its usual period
// (see `age_by_window`; "multi phases" at 20 000: 0.591 with the full period, 0.616 with
// this; 0.1 or 0.5 did worse on the corpus).
constexpr double min_aging_share = 0.2;

// floor(fraction * bound); the small tolerance keeps 0.8 * 0.99 * 1000 at 792, not 791.
uint64_t share(uint64_t bound, double fraction) {
  if (bound == unbounded)
    return unbounded;
  auto x = std::floor(fraction * static_cast<double>(bound) + 1e-6);
  return std::min(bound, static_cast<uint64_t>(std::max(x, 0.0)));
}

bool covers(const extent& got, const extent& need) {
  return got.entries >= need.entries && got.weight >= need.weight;
}

uint64_t over(uint64_t held, uint64_t bound) {
  return held > bound ? held - bound : 0;
}

} // namespace

tinylfu_policy::tinylfu_policy(extent capacity, tinylfu_options options)
    : capacity_(capacity), options_(options), sketch_(0, options.doorkeeper), queues_(3),
      window_fraction_(std::clamp(options.window_fraction, 0.0, 1.0)),
      protected_fraction_(protected_share_of_main * (1.0 - window_fraction_)),
      climber_(window_fraction_, max_window_share,
               capacity.entries == unbounded
                   ? min_window_step
                   : std::max(min_window_step, 1.0 / static_cast<double>(capacity.entries))),
      random_state_(options.seed) {
  if (options.adaptive && options.referee && capacity.entries != unbounded)
    referee_ = std::make_unique<window_referee>(capacity.entries, window_fraction_,
                                                recency_window_share, max_window_share);
  update_limits();
}

tinylfu_policy::~tinylfu_policy() = default;

void tinylfu_policy::record_access(uint32_t id) {
  auto q = queue_of(id);
  if (q == queue::none)
    return;
  sketch_.increment(hashes_[id]);
  if (q == queue::probation) {
    take(id);
    place(id, queue::protected_main);
    demote_protected_overflow();
  } else {
    queues_.move_to_back(index(q), id);
  }
  record_sample(true, hashes_[id]);
}

void tinylfu_policy::record_miss(uint32_t hash) {
  sketch_.increment(hash);
  record_sample(false, hash);
}

void tinylfu_policy::insert(uint32_t id, uint32_t hash, uint32_t weight,
                            std::vector<uint32_t>& victims) {
  if (id >= placement_.size()) {
    placement_.resize(size_t{id} + 1, queue::none);
    weights_.resize(size_t{id} + 1);
    hashes_.resize(size_t{id} + 1);
  }
  take(id);
  weights_[id] = weight;
  hashes_[id] = hash;
  // Caffeine: an entry heavier than the whole window goes to its front, so that it becomes
  // the next candidate instead of flushing the window.
  place(id, queue::window, extent{1, weight}.exceeds(window_limit_));
  size_sketch();
  evict(victims);
}

void tinylfu_policy::update(uint32_t id, uint32_t weight, std::vector<uint32_t>& victims) {
  auto q = queue_of(id);
  if (q == queue::none)
    return;
  take(id);
  weights_[id] = weight;
  place(id, q);
  if (q == queue::protected_main)
    demote_protected_overflow();
  evict(victims);
}

void tinylfu_policy::remove(uint32_t id) {
  take(id);
}

void tinylfu_policy::clear() {
  // The per-id arrays keep their size, so that refilling the same ids does not grow them
  // again one id at a time.
  queues_.clear();
  std::fill(placement_.begin(), placement_.end(), queue::none);
  for (auto& x : held_)
    x = extent{};
  full_ = false;
}

extent tinylfu_policy::held() const {
  auto total = held_[0];
  total += held_[1];
  total += held_[2];
  return total;
}

inline void tinylfu_policy::place(uint32_t id, queue q, bool at_front) {
  if (at_front)
    queues_.push_front(index(q), id);
  else
    queues_.push_back(index(q), id);
  placement_[id] = q;
  held_[index(q)] += extent{1, weights_[id]};
}

inline void tinylfu_policy::take(uint32_t id) {
  auto q = queue_of(id);
  if (q == queue::none)
    return;
  queues_.unlink(id);
  placement_[id] = queue::none;
  held_[index(q)] -= extent{1, weights_[id]};
}

void tinylfu_policy::evict(std::vector<uint32_t>& victims) {
  while (held().exceeds(capacity_)) {
    auto candidate = queues_.front(index(queue::window));
    if (candidate != nil) {
      admit_or_reject(candidate, victims);
      continue;
    }
    auto victim = queues_.front(index(queue::probation));
    if (victim == nil)
      victim = queues_.front(index(queue::protected_main));
    if (victim == nil)
      break;
    evict_entry(victim, victims);
  }
  // Below its bounds the cache has room: window overflow moves to main without a duel.
  for (uint32_t moved = 0; held_in(queue::window).exceeds(window_limit_); ++moved) {
    auto id = queues_.front(index(queue::window));
    if (id == nil || moved == queue_transfer_limit) {
      rebalance_pending_ = id != nil;
      break;
    }
    take(id);
    place(id, queue::probation);
  }
  if (rebalance_pending_)
    rebalance();
}

inline void tinylfu_policy::evict_entry(uint32_t id, std::vector<uint32_t>& victims) {
  full_ = true;
  take(id);
  victims.push_back(id);
}

void tinylfu_policy::admit_or_reject(uint32_t candidate, std::vector<uint32_t>& victims) {
  // Free as much as the cache is over its bounds, at most the candidate's own extent.
  auto total = held();
  extent need{std::min<uint64_t>(over(total.entries, capacity_.entries), 1),
              std::min<uint64_t>(over(total.weight, capacity_.weight), weights_[candidate])};
  auto candidate_frequency = sketch_.frequency(hashes_[candidate]);
  // Too rare to beat even a victim never seen, and below the random admission: no need to
  // look at victims (most candidates on skewed traces are keys seen once).
  if (candidate_frequency <= admission_margin) {
    evict_entry(candidate, victims);
    return;
  }
  // The common case, one victim that covers the need (always so with unit weights): the
  // general loop below decides the same, without gathering.
  auto first = queues_.front(index(queue::probation));
  if (first == nil)
    first = queues_.front(index(queue::protected_main));
  bool needs_room = need.entries > 0 || need.weight > 0;
  if (first != nil && needs_room && covers(extent{1, weights_[first]}, need)) {
    if (wins(candidate_frequency, sketch_.frequency(hashes_[first]))) {
      evict_entry(first, victims);
      take(candidate);
      place(candidate, queue::probation);
    } else {
      evict_entry(candidate, victims);
    }
    return;
  }
  // moka: gather victims from the front of probation (then protected) until they cover the
  // need; stop early once their frequencies add up past the candidate's.
  gathered_.clear();
  extent got;
  uint64_t victims_frequency = 0;
  for (auto q : {queue::probation, queue::protected_main}) {
    for (auto id = queues_.front(index(q));
         id != nil && !covers(got, need) && victims_frequency <= candidate_frequency;
         id = queues_.next(id)) {
      gathered_.push_back(id);
      got += extent{1, weights_[id]};
      victims_frequency += sketch_.frequency(hashes_[id]);
    }
  }
  if (covers(got, need) && wins(candidate_frequency, victims_frequency)) {
    for (auto id : gathered_)
      evict_entry(id, victims);
    take(candidate);
    place(candidate, queue::probation);
  } else {
    evict_entry(candidate, victims);
  }
}

bool tinylfu_policy::wins(uint32_t candidate_frequency, uint64_t victims_frequency) {
  if (candidate_frequency > victims_frequency + admission_margin)
    return true;
  if (candidate_frequency < hash_flooding_threshold)
    return false;
  // splitmix64: deterministic for a seed, good enough for a 1-in-128 draw.
  uint64_t z = (random_state_ += 0x9e37'79b9'7f4a'7c15u);
  z = (z ^ (z >> 30)) * 0xbf58'476d'1ce4'e5b9u;
  z = (z ^ (z >> 27)) * 0x94d0'49bb'1331'11ebu;
  z ^= z >> 31;
  return (z & random_admission_mask) == 0;
}

void tinylfu_policy::demote_protected_overflow() {
  while (held_in(queue::protected_main).exceeds(protected_limit_)) {
    auto id = queues_.front(index(queue::protected_main));
    if (id == nil)
      return;
    take(id);
    place(id, queue::probation);
  }
}

void tinylfu_policy::size_sketch() {
  // Caffeine sizes the sketch lazily, once the cache is half full, so that a large bound
  // costs no memory until it is used: for the entry bound at once, for a weight bound by
  // the number of entries it turned out to take.
  if (capacity_.entries != unbounded && sketch_.capacity() >= capacity_.entries)
    return; // sized for good
  auto total = held();
  if (capacity_.entries != unbounded && total.entries >= capacity_.entries / 2)
    sketch_.ensure_capacity(capacity_.entries);
  else if (capacity_.weight != unbounded && total.weight >= capacity_.weight / 2)
    sketch_.ensure_capacity(total.entries);
}

void tinylfu_policy::age_by_window() {
  // The main space's share of Caffeine's aging period (10 x capacity increments), at least
  // `min_aging_share` of it: a large window means recency pays, and a main space that
  // forgets sooner lets a moving hot set in sooner.
  auto share = std::max(1.0 - window_fraction_, min_aging_share);
  sketch_.set_sample_size(
      static_cast<uint64_t>(share * static_cast<double>(sketch_.default_sample_size())));
}

inline void tinylfu_policy::record_sample(bool hit, uint32_t hash) {
  if (referee_ && referee_->sampled(hash)) {
    auto leap = referee_->record(hash, hit, climber_.share());
    if (leap != window_referee::stay && options_.adaptive && full_) {
      climber_.restart(leap);
      // A leap means the workload changed: halving the counts now lets the new phase's
      // keys outgrow those the last phase made frequent a sample sooner.
      sketch_.age();
      resize_window(leap);
    }
  }
  // Like Caffeine's simulator, the climber samples only once the cache is full: while it
  // fills, the hit rate says nothing about the window.
  if (!options_.adaptive || !full_)
    return;
  if (climber_.record(hit, std::max(sketch_.sample_size(), min_climber_sample)))
    resize_window(climber_.share());
  else if (rebalance_pending_)
    rebalance();
}

void tinylfu_policy::resize_window(double share) {
  // Protected keeps its share of the main space (Caffeine takes the window's growth from
  // protected alone, but then the window cannot pass 80% and become LRU).
  window_fraction_ = std::clamp(share, 0.0, max_window_share);
  age_by_window();
  protected_fraction_ = protected_share_of_main * (1.0 - window_fraction_);
  update_limits();
  rebalance();
}

void tinylfu_policy::update_limits() {
  window_limit_ = extent{capacity_.entries - share(capacity_.entries, 1.0 - window_fraction_),
                         capacity_.weight == unbounded
                             ? unbounded
                             : capacity_.weight - share(capacity_.weight, 1.0 - window_fraction_)};
  // Caffeine never shrinks the window below one entry.
  if (capacity_.entries > 0)
    window_limit_.entries = std::max<uint64_t>(window_limit_.entries, 1);
  protected_limit_ = extent{share(capacity_.entries, protected_fraction_),
                            share(capacity_.weight, protected_fraction_)};
}

void tinylfu_policy::rebalance() {
  uint32_t budget = queue_transfer_limit;
  // A smaller window: its overflow joins probation.
  for (; budget > 0 && held_in(queue::window).exceeds(window_limit_); --budget) {
    auto id = queues_.front(index(queue::window));
    if (id == nil)
      break;
    take(id);
    place(id, queue::probation);
  }
  // A larger window: fill it from the cold end of main, probation first.
  for (; budget > 0; --budget) {
    auto id = queues_.front(index(queue::probation));
    if (id == nil)
      id = queues_.front(index(queue::protected_main));
    if (id == nil)
      break;
    auto grown = held_in(queue::window);
    grown += extent{1, weights_[id]};
    if (grown.exceeds(window_limit_))
      break;
    take(id);
    place(id, queue::window);
  }
  demote_protected_overflow();
  rebalance_pending_ = budget == 0;
}

} // namespace mtcache::detail

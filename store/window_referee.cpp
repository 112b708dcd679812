#include "mtcache/store/window_referee.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "mtcache/store/lru_policy.hpp"
#include "mtcache/store/tinylfu_policy.hpp"

namespace mtcache::detail {

namespace {

// Ours: replicas of about this many entries. The sampled requests per period (10 x the
// replica capacity) then make a standard error of about 0.3% of hit rate.
constexpr uint64_t replica_entries = 1024;

// Ours: at least one key in four is left out, so that the replicas cost at most a quarter
// of a request's work each at small capacities (replay speed, bench/hit_ratio).
constexpr uint64_t min_rate = 4;

// Ours: a replica must be ahead by this many standard errors of the paired difference...
constexpr double significance = 3.0;

// ...and by at least this much hit ratio, the tolerance the policy is held to.
constexpr double min_gain = 0.005;

// Ours: a period is 5 x replica capacity sampled requests, about 5 x capacity requests, half
// of the sketch's aging period and of a climber sample (10 x: shift at 10 000 falls to
// 0.712 from 0.717, as the referee reacts later to each move of the hot set).
constexpr uint64_t period_factor = 5;

// Ours: the tallies are looked at after every eighth of a period, with a stricter test (four
// standard errors) before the period is complete, so that a phase of a multiprogrammed
// mix is recognised within a fraction of its length.
constexpr uint64_t looks = 8;
constexpr double early_significance = 4.0;

uint64_t rate_for(uint64_t capacity) {
  uint64_t rate = min_rate;
  while (capacity / (2 * rate) >= replica_entries)
    rate <<= 1;
  return rate;
}

uint64_t replica_capacity(uint64_t capacity) {
  return std::max<uint64_t>(capacity / rate_for(capacity), 1);
}

std::unique_ptr<eviction_policy> fixed_tinylfu(uint64_t capacity, double initial) {
  tinylfu_options options;
  options.window_fraction = initial;
  options.adaptive = false;
  return std::make_unique<tinylfu_policy>(extent{capacity, UINT64_MAX}, options);
}

} // namespace

window_referee::window_referee(uint64_t capacity, double initial, double recency, double maximum)
    : rate_mask_(rate_for(capacity) - 1), period_(period_factor * replica_capacity(capacity)),
      look_(std::max<uint64_t>(period_ / looks, 1)), initial_(initial), recency_(recency),
      maximum_(maximum),
      lru_(std::make_unique<lru_policy>(extent{replica_capacity(capacity), UINT64_MAX}),
           replica_capacity(capacity)),
      tinylfu_(fixed_tinylfu(replica_capacity(capacity), initial), replica_capacity(capacity)) {
  // nop
}

double window_referee::record(uint32_t hash, bool hit, double share) {
  auto count = [hit](tally& t, bool replica_hit) {
    t.ahead += replica_hit && !hit ? 1 : 0;
    t.behind += hit && !replica_hit ? 1 : 0;
  };
  count(lru_tally_, lru_.access(hash));
  count(tinylfu_tally_, tinylfu_.access(hash));
  ++requests_;
  bool complete = requests_ >= period_;
  if (!complete && requests_ % look_ != 0)
    return stay;
  double sig = complete ? significance : early_significance;
  auto lead = [this](const tally& t) {
    return (static_cast<double>(t.ahead) - static_cast<double>(t.behind)) /
           static_cast<double>(requests_);
  };
  auto target = stay;
  bool lru_ahead = ahead(lru_tally_, sig) && lead(lru_tally_) >= min_gain;
  bool tinylfu_ahead = ahead(tinylfu_tally_, sig) && lead(tinylfu_tally_) >= min_gain;
  // A cache already at the recency setting that still trails LRU keeps a stale main space
  // (keys a phase before made frequent, which the new phase's keys cannot displace): it
  // becomes LRU ("multi phases" at 20 000 loses 0.025 of hit ratio to LRU in each of its
  // zipf phases at 80%, none at 100%).
  if (lru_ahead && (!tinylfu_ahead || lead(lru_tally_) > lead(tinylfu_tally_)))
    target = share < recency_ ? recency_ : maximum_;
  else if (tinylfu_ahead)
    target = initial_;
  if (target == share)
    target = stay;
  if (complete || target != stay) {
    lru_tally_ = tally{};
    tinylfu_tally_ = tally{};
    requests_ = 0;
  }
  if (target == stay)
    return stay;
  ++leaps_;
  return target;
}

bool window_referee::ahead(const tally& t, double significance) {
  // McNemar: without a difference, each discordant request is ahead or behind with even
  // odds, so ahead - behind has a standard deviation of sqrt(ahead + behind).
  auto discordant = static_cast<double>(t.ahead + t.behind);
  return static_cast<double>(t.ahead) - static_cast<double>(t.behind) >
         significance * std::sqrt(std::max(discordant, 1.0));
}

} // namespace mtcache::detail

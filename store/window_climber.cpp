#include "mtcache/store/window_climber.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace mtcache::detail {

namespace {

// Ours: a difference of hit rates counts when it exceeds five standard errors of the
// difference of two binomial proportions, sqrt(p1 (1 - p1) / n1 + p2 (1 - p2) / n2). With
// samples of 10 x capacity requests at capacity 1000 that is about 3.5% of hit rate, so the
// climber follows what matters on recency traces (tens of percent) and ignores the few
// tenths of a percent that window sizes near 1% make on skewed traces. Five, not three:
// requests are not independent draws and aging makes the hit rate saw-toothed, so real
// samples spread more than the binomial error says; with three, the climber took the
// learning curve of a cold cache at capacity 10 000 for an effect of its probes.
constexpr double noise_errors = 5.0;

// Caffeine: HILL_CLIMBER_RESTART_THRESHOLD; a hit rate that moved this much between two
// samples at the same window size means the workload changed.
constexpr double workload_change = 0.05;

// Ours: a probe is looked at after each quarter of its sample.
constexpr uint64_t probe_looks = 4;

// Ours: after failed probes the climber waits 2, 4, 8, 16 stable samples before the next.
constexpr uint32_t max_wait = 16;

} // namespace

window_climber::window_climber(double initial, double maximum, double smallest)
    : share_(initial), settled_(initial), maximum_(maximum), smallest_(smallest) {
  // nop
}

void window_climber::restart(double share) {
  share_ = std::clamp(share, 0.0, maximum_);
  settled_ = share_;
  phase_ = phase::measuring;
  has_baseline_ = false;
  direction_ = share_ >= maximum_ ? -1 : 1;
  wait_ = 0;
  failures_ = 0;
  hits_ = 0;
  requests_ = 0;
}

bool window_climber::look(uint64_t sample_size) {
  bool complete = requests_ >= sample_size;
  // Probes and confirmations are looked at after every quarter and end early when clear.
  if (!complete && requests_ % std::max<uint64_t>(sample_size / probe_looks, 1) != 0)
    return false;
  sample now{static_cast<double>(hits_) / static_cast<double>(requests_),
             static_cast<double>(requests_)};
  if (phase_ == phase::measuring) {
    hits_ = 0;
    requests_ = 0;
    return conclude_baseline(now);
  }
  auto verdict = phase_ == phase::probing ? judge_probe(now) : judge_confirmation(now);
  if (verdict == 0 && !complete)
    return false;
  hits_ = 0;
  requests_ = 0;
  return conclude(now, verdict > 0);
}

bool window_climber::conclude_baseline(sample now) {
  // Only a jump tells a workload change from the saw-tooth of aging.
  bool first = !has_baseline_;
  bool stable = first || std::abs(now.rate - baseline_.rate) < workload_change;
  has_baseline_ = true;
  baseline_ = now;
  if (!stable) {
    // The workload moved (or this is the first sample): measure again before probing, and
    // probe soon once it settles, since the best window may have moved too.
    wait_ = 0;
    failures_ = 0;
    return false;
  }
  // Waiting ends with a sample at the settled size, the baseline of the next probe.
  if (wait_ > 0 && --wait_ > 0)
    return false;
  return start_probe();
}

int window_climber::judge_probe(sample now) const {
  if (!differs(now, baseline_))
    return 0;
  return now.rate > baseline_.rate ? 1 : -1;
}

int window_climber::judge_confirmation(sample now) const {
  // The probe against the mean of the samples before and after it at the settled size:
  // a hit rate that drifts steadily (a cache still learning, a workload recovering from
  // a shift) cancels out.
  auto gain = probe_.rate - (baseline_.rate + now.rate) / 2;
  auto error = std::sqrt(variance(probe_) + (variance(baseline_) + variance(now)) / 4);
  if (std::abs(gain) <= noise_errors * error)
    return 0;
  return gain > 0 ? 1 : -1;
}

bool window_climber::conclude(sample now, bool better) {
  if (phase_ == phase::probing && better) {
    // Looks better: measure the settled size once more before believing it.
    probe_ = now;
    phase_ = phase::confirming;
    share_ = settled_;
    return true;
  }
  if (phase_ == phase::confirming)
    baseline_ = now;
  phase_ = phase::measuring;
  auto before = share_;
  if (better) {
    // The step paid: settle there and try another one the same way.
    baseline_ = probe_;
    settled_ = probe_share_;
    share_ = settled_;
    failures_ = 0;
    start_probe();
    return share_ != before;
  }
  // Not better: go back, and next time try the other way after a longer wait.
  share_ = settled_;
  direction_ = -direction_;
  failures_ = std::min<uint32_t>(failures_ + 1, 31);
  wait_ = std::min<uint32_t>(uint32_t{1} << failures_, max_wait);
  return share_ != before;
}

bool window_climber::start_probe() {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto next = step(settled_, direction_);
    if (next != settled_) {
      probe_share_ = next;
      share_ = next;
      phase_ = phase::probing;
      ++probes_;
      return true;
    }
    direction_ = -direction_;
  }
  return false;
}

double window_climber::step(double share, int direction) const {
  if (direction > 0)
    return std::min(maximum_, std::max(2 * share, 2 * smallest_));
  auto half = share / 2;
  return half < smallest_ ? 0.0 : half;
}

double window_climber::variance(sample a) {
  return a.requests > 0 ? a.rate * (1 - a.rate) / a.requests : 1.0;
}

bool window_climber::differs(sample a, sample b) {
  return std::abs(a.rate - b.rate) > noise_errors * std::sqrt(variance(a) + variance(b));
}

} // namespace mtcache::detail

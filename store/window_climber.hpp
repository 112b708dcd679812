#pragma once

#include <cstdint>

namespace mtcache::detail {

/// Chooses the share of the cache that W-TinyLFU gives its admission window, by hill
/// climbing on the hit rate (Einziger, Eytan, Friedman & Manes, "Adaptive Software Cache
/// Management", Middleware 2018).
///
/// Caffeine's climber moves the window after every sample of 10 x capacity requests and
/// credits the whole change of the hit rate since the previous sample to its last move.
/// But the hit rate also changes by itself: noise (about 0.7% at capacity 1000), a cold
/// cache still learning, a workload that shifts or scans. So that climber random-walks on
/// stationary traces, wanders off after every shift, and its first move (shrinking a 1%
/// window to one entry) costs a recency trace most of its hits for a whole sample. This
/// one makes each move prove itself:
///
/// - A *probe* moves the window one step and measures a sample there. If the hit rate did
///   not beat the *baseline*, the last sample at the settled size, by more than the noise,
///   the window goes back.
/// - A probe that did beat it is *confirmed*: the window goes back for one more sample, and
///   the probe is kept only if it beat the mean of the samples before and after it, which
///   cancels a hit rate that drifts by itself. A kept probe is followed by another step
///   the same way.
/// - Steps double or halve the window: useful windows range from under 1% of the cache
///   (skewed popularity) to tens of percent (recency), and doubling spans that in a few
///   probes, each of which costs little near 1%. The first probe grows the window (Caffeine
///   shrinks it first): at 2% our skewed traces lose at most 0.05% of hit ratio, while a
///   recency trace may need ten times the window.
/// - After a failed probe the next one goes the other way and waits for 2, 4, 8, then 16
///   samples, so a stationary trace pays for ever fewer probes. A jump of the hit rate
///   between two baseline samples (a workload change) holds probing until it settles and
///   then resets the wait.
/// - Probes and confirmations are looked at after every quarter of their sample and end
///   as soon as they are clear, so a step that ruins the hit rate costs a quarter sample.
class window_climber {
public:
  /// Starts at `initial` (a share of the capacity); the window never exceeds `maximum`, and
  /// shares below `smallest` mean a one-entry window.
  window_climber(double initial, double maximum, double smallest);

  /// Counts one request of a sample of `sample_size` requests; returns whether the window
  /// share changed, after which the caller resizes the window to `share()`.
  bool record(bool hit, uint64_t sample_size) {
    hits_ += hit ? 1 : 0;
    ++requests_;
    // Inline up to here: this runs on every request, and while measuring a baseline it
    // rarely goes further.
    if (phase_ == phase::measuring && requests_ < sample_size)
      return false;
    return look(sample_size);
  }

  /// Settles at `share` and measures a new baseline before probing from there (after a
  /// leap that the caller decided on).
  void restart(double share);

  /// The window's share of the capacity.
  double share() const { return share_; }

  /// The share the climber settled on, where the window returns after a probe.
  double settled() const { return settled_; }

  /// Whether a probe is being measured or confirmed.
  bool probing() const { return phase_ != phase::measuring; }

  /// Number of probes started so far.
  uint64_t probes() const { return probes_; }

private:
  struct sample {
    double rate;
    double requests;
  };

  enum class phase : uint8_t { measuring, probing, confirming };

  /// The rest of `record`: whether the sample is complete or may end early, and then what
  /// it says.
  bool look(uint64_t sample_size);

  bool conclude_baseline(sample now);

  /// +1 if `now` shows the probe better, -1 worse, 0 not yet clear.
  int judge_probe(sample now) const;

  int judge_confirmation(sample now) const;

  bool conclude(sample now, bool better);

  /// Starts a probe in `direction_`, in the other direction at a bound; false if neither
  /// way can move.
  bool start_probe();

  double step(double share, int direction) const;

  static double variance(sample a);

  static bool differs(sample a, sample b);

  double share_;
  double settled_;
  double probe_share_ = 0;
  double maximum_;
  double smallest_;
  int direction_ = 1;
  phase phase_ = phase::measuring;
  bool has_baseline_ = false;
  sample baseline_{0, 0};
  sample probe_{0, 0};
  uint32_t stable_ = 0;
  uint32_t wait_ = 0;
  uint32_t failures_ = 0;
  uint64_t probes_ = 0;
  uint64_t hits_ = 0;
  uint64_t requests_ = 0;
};

} // namespace mtcache::detail

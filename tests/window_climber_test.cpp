#include "mtcache/store/window_climber.hpp"

#include <cmath>
#include <functional>
#include <vector>

#include <gtest/gtest.h>

using mtcache::detail::window_climber;

namespace {

constexpr uint64_t sample = 10000;

// A climber over a cache of 1000 entries that starts with a 1% window.
window_climber make_climber() {
  return window_climber{0.01, 0.8, 0.001};
}

// Feeds `requests` requests whose hit rate is `rate(share, request number)`; hits are spread
// evenly (a hit whenever the running total of the rate passes an integer), so samples are
// exact and tests deterministic.
struct feeder {
  std::function<double(double, uint64_t)> rate;
  uint64_t clock = 0;
  double credit = 0;

  void run(window_climber& climber, uint64_t requests) {
    for (uint64_t i = 0; i < requests; ++i, ++clock) {
      credit += rate(climber.share(), clock);
      bool hit = credit >= 1;
      if (hit)
        credit -= 1;
      climber.record(hit, sample);
    }
  }
};

} // namespace

TEST(WindowClimber, FirstSampleIsABaselineThenTheWindowDoubles) {
  auto climber = make_climber();
  feeder flat{[](double, uint64_t) { return 0.5; }};
  flat.run(climber, sample - 1);
  EXPECT_DOUBLE_EQ(climber.share(), 0.01);
  flat.run(climber, 1);
  EXPECT_DOUBLE_EQ(climber.share(), 0.02);
  EXPECT_TRUE(climber.probing());
}

TEST(WindowClimber, RevertsAProbeThatDoesNotPayAndTriesTheOtherWayLater) {
  auto climber = make_climber();
  feeder flat{[](double, uint64_t) { return 0.5; }};
  flat.run(climber, 2 * sample);
  EXPECT_DOUBLE_EQ(climber.share(), 0.01);
  EXPECT_FALSE(climber.probing());
  // Two stable samples of waiting, the second a baseline, then a probe downwards.
  flat.run(climber, sample);
  EXPECT_DOUBLE_EQ(climber.share(), 0.01);
  flat.run(climber, sample);
  EXPECT_DOUBLE_EQ(climber.share(), 0.005);
}

TEST(WindowClimber, KeepsAProbeThatPaysAndClimbsOn) {
  auto climber = make_climber();
  // Recency pays up to a 10% window.
  feeder recency{[](double share, uint64_t) { return 0.1 + 4 * std::min(share, 0.1); }};
  recency.run(climber, 20 * sample);
  EXPECT_GE(climber.settled(), 0.08);
  EXPECT_LE(climber.settled(), 0.16);
}

TEST(WindowClimber, ConfirmsAProbeBeforeKeepingIt) {
  auto climber = make_climber();
  feeder recency{[](double share, uint64_t) { return share > 0.015 ? 0.6 : 0.3; }};
  recency.run(climber, sample);
  recency.run(climber, sample / 4); // the probe is clearly better after a quarter
  EXPECT_TRUE(climber.probing());
  EXPECT_DOUBLE_EQ(climber.share(), 0.01); // back at the settled size to confirm
  EXPECT_DOUBLE_EQ(climber.settled(), 0.01);
  recency.run(climber, sample / 4);
  EXPECT_DOUBLE_EQ(climber.settled(), 0.02);
  EXPECT_DOUBLE_EQ(climber.share(), 0.04); // and on to the next step
}

TEST(WindowClimber, EndsARuinousProbeAfterAQuarterSample) {
  auto climber = make_climber();
  feeder frequency{[](double share, uint64_t) { return share > 0.015 ? 0.1 : 0.5; }};
  frequency.run(climber, sample);
  ASSERT_DOUBLE_EQ(climber.share(), 0.02);
  frequency.run(climber, sample / 4);
  EXPECT_DOUBLE_EQ(climber.share(), 0.01);
  EXPECT_FALSE(climber.probing());
}

TEST(WindowClimber, IgnoresAHitRateThatDriftsByItself) {
  auto climber = make_climber();
  // A cold cache learning: the hit rate rises by 4% per sample whatever the window.
  feeder learning{[](double, uint64_t clock) {
    return std::min(0.2 + 0.04 * static_cast<double>(clock) / sample, 0.9);
  }};
  learning.run(climber, 15 * sample);
  EXPECT_GT(climber.probes(), 0u);
  EXPECT_DOUBLE_EQ(climber.settled(), 0.01);
}

TEST(WindowClimber, HoldsWhileTheWorkloadJumpsAndProbesSoonAfter) {
  auto climber = make_climber();
  // Two flat samples (the first probe fails), then the hit rate jumps between 30% and
  // 45% every sample: a shifting workload, not a window effect. Then it settles.
  feeder shifting{[](double, uint64_t clock) {
    auto s = clock / sample;
    if (s < 2)
      return 0.5;
    if (s >= 10)
      return 0.3;
    return s % 2 == 0 ? 0.3 : 0.45;
  }};
  shifting.run(climber, 10 * sample);
  EXPECT_EQ(climber.probes(), 1u);
  shifting.run(climber, 2 * sample); // one sample still jumps, then a stable one
  EXPECT_EQ(climber.probes(), 2u);   // no wait left over from the failed probe
}

TEST(WindowClimber, WaitsLongerAfterEachFailedProbe) {
  auto climber = make_climber();
  feeder flat{[](double, uint64_t) { return 0.5; }};
  std::vector<uint64_t> starts;
  for (uint64_t s = 0; s < 60; ++s) {
    auto before = climber.probes();
    flat.run(climber, sample);
    if (climber.probes() > before)
      starts.push_back(s);
  }
  // Each probe takes a sample; then 2, 4, 8, 16, 16 samples of waiting.
  EXPECT_EQ(starts, (std::vector<uint64_t>{0, 3, 8, 17, 34, 51}));
}

TEST(WindowClimber, StaysWithinItsBounds) {
  window_climber grows{0.01, 0.1, 0.001};
  feeder recency{[](double share, uint64_t) { return 0.1 + 4 * share; }};
  recency.run(grows, 40 * sample);
  EXPECT_LE(grows.share(), 0.1);
  EXPECT_DOUBLE_EQ(grows.settled(), 0.1);

  window_climber shrinks{0.01, 0.1, 0.001};
  feeder frequency{[](double share, uint64_t) { return 0.6 - 40 * share; }};
  frequency.run(shrinks, 40 * sample);
  EXPECT_GE(shrinks.share(), 0.0);
  EXPECT_DOUBLE_EQ(shrinks.settled(), 0.0); // one entry: halving past `smallest` stops at 0
}

TEST(WindowClimber, RestartSettlesWhereTheLeapWentAndMeasuresFirst) {
  auto climber = make_climber();
  feeder flat{[](double, uint64_t) { return 0.5; }};
  flat.run(climber, sample / 2);
  climber.restart(0.8);
  EXPECT_DOUBLE_EQ(climber.share(), 0.8);
  EXPECT_DOUBLE_EQ(climber.settled(), 0.8);
  EXPECT_FALSE(climber.probing());
  // A whole new baseline sample first, then a probe: downwards, as 0.8 is the maximum.
  flat.run(climber, sample - 1);
  EXPECT_DOUBLE_EQ(climber.share(), 0.8);
  flat.run(climber, 1);
  EXPECT_DOUBLE_EQ(climber.share(), 0.4);
}

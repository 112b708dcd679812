#include "mtcache/store/timer_wheel.hpp"

#include <algorithm>
#include <random>
#include <vector>

#include <gtest/gtest.h>

using mtcache::detail::timer_wheel;

namespace {

constexpr int64_t second = 1000;
constexpr int64_t minute = 60 * second;
constexpr int64_t hour = 60 * minute;
constexpr int64_t day = 24 * hour;

std::vector<uint32_t> advance(timer_wheel& wheel, int64_t now) {
  std::vector<uint32_t> due;
  wheel.advance(now, due);
  std::sort(due.begin(), due.end());
  return due;
}

} // namespace

TEST(TimerWheel, FiresAtExactMillisecond) {
  timer_wheel wheel;
  wheel.schedule(1, 1500);
  EXPECT_TRUE(advance(wheel, 1499).empty());
  EXPECT_EQ(advance(wheel, 1500), (std::vector<uint32_t>{1}));
  EXPECT_FALSE(wheel.scheduled(1));
  EXPECT_EQ(wheel.time_of(1), 1500);
}

TEST(TimerWheel, FiresAtTheRightTimeOnEveryLevel) {
  // One delay per level: 1 ms, 1.02 s, 1.09 min, 1.17 h, 1.55 d buckets and the overflow.
  const std::vector<int64_t> delays{7,           3 * second + 5, 5 * minute + 11, 3 * hour + 17,
                                    2 * day + 3, 9 * day + 1};
  for (auto delay : delays) {
    timer_wheel wheel;
    advance(wheel, 10);
    wheel.schedule(3, 10 + delay);
    // Jump close first (cascading down several levels at once), then step in ms.
    EXPECT_TRUE(advance(wheel, 10 + delay - 3).empty()) << delay;
    EXPECT_TRUE(advance(wheel, 10 + delay - 1).empty()) << delay;
    EXPECT_EQ(advance(wheel, 10 + delay), (std::vector<uint32_t>{3})) << delay;
  }
}

TEST(TimerWheel, CascadesWhenAdvancedInSmallSteps) {
  timer_wheel wheel;
  wheel.schedule(1, 2 * hour + 1);
  wheel.schedule(2, 2 * hour);
  for (int64_t now = 0; now < 2 * hour; now += 997)
    ASSERT_TRUE(advance(wheel, now).empty()) << now;
  EXPECT_EQ(advance(wheel, 2 * hour), (std::vector<uint32_t>{2}));
  EXPECT_EQ(advance(wheel, 2 * hour + 1), (std::vector<uint32_t>{1}));
}

TEST(TimerWheel, LongJumpFiresEverythingDue) {
  timer_wheel wheel;
  for (uint32_t id = 0; id < 100; ++id)
    wheel.schedule(id, 1 + id * 3 * hour);
  auto due = advance(wheel, 30 * day);
  EXPECT_EQ(due.size(), 100u);
}

TEST(TimerWheel, RescheduleReplacesTheEarlierTime) {
  timer_wheel wheel;
  wheel.schedule(1, 100);
  wheel.schedule(1, 5 * minute);
  EXPECT_TRUE(advance(wheel, 4 * minute).empty());
  wheel.schedule(1, 4 * minute + 10);
  EXPECT_TRUE(advance(wheel, 4 * minute + 9).empty());
  EXPECT_EQ(advance(wheel, 4 * minute + 10), (std::vector<uint32_t>{1}));
  EXPECT_TRUE(advance(wheel, 10 * minute).empty());
}

TEST(TimerWheel, CancelRemoves) {
  timer_wheel wheel;
  wheel.schedule(1, 50);
  wheel.schedule(2, 50);
  wheel.cancel(1);
  wheel.cancel(77);
  EXPECT_EQ(wheel.time_of(1), timer_wheel::never);
  EXPECT_EQ(advance(wheel, 60), (std::vector<uint32_t>{2}));
  wheel.schedule(3, 70);
  wheel.schedule(3, timer_wheel::never);
  EXPECT_FALSE(wheel.scheduled(3));
  EXPECT_TRUE(advance(wheel, 100).empty());
}

TEST(TimerWheel, PastTimeFiresOnNextAdvance) {
  timer_wheel wheel;
  advance(wheel, 1000);
  wheel.schedule(1, 400);
  EXPECT_EQ(advance(wheel, 1001), (std::vector<uint32_t>{1}));
}

TEST(TimerWheel, ClockDoesNotMoveBack) {
  timer_wheel wheel;
  advance(wheel, 5000);
  wheel.schedule(1, 5100);
  EXPECT_TRUE(advance(wheel, 10).empty());
  EXPECT_EQ(wheel.now(), 5000);
  EXPECT_EQ(advance(wheel, 5100), (std::vector<uint32_t>{1}));
}

TEST(TimerWheel, RandomScheduleMatchesReference) {
  // Every id must fire exactly at the first advance whose time reaches its deadline.
  std::mt19937_64 rng{42};
  timer_wheel wheel;
  std::vector<int64_t> deadline(500);
  int64_t now = 123456;
  advance(wheel, now);
  const int64_t spans[] = {20, 5 * second, 10 * minute, 5 * hour, 3 * day, 20 * day};
  for (uint32_t id = 0; id < deadline.size(); ++id) {
    deadline[id] = now + 1 + static_cast<int64_t>(rng() % spans[id % 6]);
    wheel.schedule(id, deadline[id]);
  }
  std::vector<bool> fired(deadline.size());
  while (std::find(fired.begin(), fired.end(), false) != fired.end()) {
    now += 1 + static_cast<int64_t>(rng() % (rng() % 2 ? 50 : 2 * hour));
    for (auto id : advance(wheel, now)) {
      ASSERT_FALSE(fired[id]);
      ASSERT_LE(deadline[id], now);
      fired[id] = true;
    }
    for (uint32_t id = 0; id < deadline.size(); ++id)
      ASSERT_TRUE(fired[id] || deadline[id] > now) << id;
  }
}

TEST(TimerWheel, ClearUnschedulesEverything) {
  timer_wheel wheel;
  wheel.schedule(1, 10);
  wheel.schedule(2, 10 * day);
  wheel.clear();
  EXPECT_FALSE(wheel.scheduled(1));
  EXPECT_TRUE(advance(wheel, 20 * day).empty());
}

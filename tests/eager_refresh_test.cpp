// Eager refresh (coordinator_reads.cpp, flight.cpp) and loaders that choose the TTL
// (callable_loader.cpp, typed_cache.hpp), on a cache with a memory L1 and real time: a hit
// past the share answers at once, one background load per key replaces the value, a failed
// one leaves it.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <caf/scoped_actor.hpp>
#include <cereal/types/string.hpp>

#include "mtcache/actors/callable_loader.hpp"
#include "mtcache/messages/error.hpp"
#include "mtcache/runtime/blocking_client.hpp"
#include "mtcache/runtime/spawn_cache.hpp"
#include "mtcache/runtime/typed_cache.hpp"
#include "support/actor_system_fixture.hpp"
#include "support/redis_server.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using mtcache::testing::eventually;

namespace {

using clock_type = std::chrono::steady_clock;

class EagerRefresh : public mtcache::testing::actor_system_fixture {
protected:
  void SetUp() override {
    auto spawned = spawn_cache(sys, cache_config::embedded());
    ASSERT_TRUE(spawned) << sys.render(spawned.error());
    cache = *spawned;
    client = std::make_unique<blocking_cache>(sys, *cache, 10s);
  }

  void TearDown() override {
    client.reset();
    if (cache)
      stop_cache(*cache);
  }

  // Answers "v<n>" on its n-th call after `delay`; fails from call `fail_from` on (0: never).
  loader_actor versioned_loader(std::chrono::milliseconds delay, int fail_from = 0) {
    auto calls = loader_calls;
    return spawn_callable_loader(sys, [=](const std::string&) -> caf::expected<bytes> {
      auto n = ++*calls;
      std::this_thread::sleep_for(delay);
      if (fail_from > 0 && n >= fail_from)
        return make_error(errc::loader_failed, "source down");
      return bytes{"v" + std::to_string(n)};
    });
  }

  // TTL 2 s, refreshed past 50% of it.
  static compute_options refreshing() {
    compute_options opts{strategy::custom(2s)};
    opts.eager_refresh = 0.5;
    return opts;
  }

  // Loads "v1" and waits until it is past the refresh share.
  void load_then_age(const loader_actor& loader) {
    auto first = client->get_or_compute("k", refreshing(), loader);
    ASSERT_TRUE(first) << sys.render(first.error());
    ASSERT_EQ(first->value.view(), "v1");
    std::this_thread::sleep_for(age);
  }

  bool serves(const std::string& value) {
    auto now = client->get("k");
    return now && now->found && now->value.view() == value;
  }

  cache_stats stats() {
    auto s = client->stats();
    EXPECT_TRUE(s);
    return s ? *s : cache_stats{};
  }

  // Past half of the 2 s TTL, with 800 ms left before it expires.
  static constexpr auto age = 1200ms;

  std::optional<cache_actor> cache;
  std::unique_ptr<blocking_cache> client;
  std::shared_ptr<std::atomic<int>> loader_calls = std::make_shared<std::atomic<int>>(0);
};

TEST_F(EagerRefresh, HitPastTheShareAnswersAtOnceAndRefreshesOnce) {
  auto loader = versioned_loader(300ms);
  load_then_age(loader);
  auto begin = clock_type::now();
  auto res = client->get_or_compute("k", refreshing(), loader);
  auto took = clock_type::now() - begin;
  ASSERT_TRUE(res) << sys.render(res.error());
  EXPECT_EQ(res->value.view(), "v1");
  EXPECT_FALSE(res->stale);
  EXPECT_LT(took, 200ms) << "the caller waited for the refresh";
  EXPECT_TRUE(eventually([&] { return serves("v2"); }));
  // The refreshed value is young again: the next hits start nothing.
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(client->get_or_compute("k", refreshing(), loader));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(loader_calls->load(), 2);
  auto s = stats();
  EXPECT_EQ(s.eager_refreshes, 1u);
  EXPECT_EQ(s.loads, 2u);
  EXPECT_EQ(s.eager_refresh_failures, 0u);
}

TEST_F(EagerRefresh, HitBeforeTheShareStartsNothing) {
  auto loader = versioned_loader(0ms);
  ASSERT_TRUE(client->get_or_compute("k", refreshing(), loader));
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(client->get_or_compute("k", refreshing(), loader));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(loader_calls->load(), 1);
  EXPECT_EQ(stats().eager_refreshes, 0u);
}

TEST_F(EagerRefresh, ConcurrentHitsStartOneRefreshAndNoneWaits) {
  auto loader = versioned_loader(500ms);
  load_then_age(loader);
  caf::scoped_actor self{sys};
  constexpr size_t callers = 200;
  auto begin = clock_type::now();
  for (size_t i = 0; i < callers; ++i)
    self->send(*cache, compute_atom::value, std::string{"k"}, refreshing(), loader);
  size_t received = 0;
  size_t old_values = 0;
  self->receive_for(received, callers)(
      [&](lookup& res) { old_values += res.found && res.value.view() == "v1" ? 1 : 0; },
      [&](caf::error& err) { ADD_FAILURE() << sys.render(err); });
  auto took = clock_type::now() - begin;
  EXPECT_EQ(old_values, callers);
  EXPECT_LT(took, 400ms) << "callers waited for the 500 ms refresh";
  EXPECT_TRUE(eventually([&] { return serves("v2"); }));
  EXPECT_EQ(loader_calls->load(), 2);
  EXPECT_EQ(stats().eager_refreshes, 1u);
}

TEST_F(EagerRefresh, FailedRefreshKeepsTheOldValueAndCounts) {
  auto loader = versioned_loader(50ms, 2);
  load_then_age(loader);
  auto res = client->get_or_compute("k", refreshing(), loader);
  ASSERT_TRUE(res) << sys.render(res.error());
  EXPECT_EQ(res->value.view(), "v1");
  EXPECT_TRUE(eventually([&] { return stats().eager_refresh_failures == 1; }));
  EXPECT_TRUE(serves("v1"));
  auto again = client->get_or_compute("k", refreshing(), loader);
  ASSERT_TRUE(again) << sys.render(again.error());
  EXPECT_EQ(again->value.view(), "v1");
  auto s = stats();
  EXPECT_GE(s.eager_refreshes, 1u);
  EXPECT_EQ(s.failed, 0u) << "a failed refresh reached a caller";
}

TEST_F(EagerRefresh, ShareOutsideZeroToOneIsRejected) {
  auto opts = refreshing();
  for (double share : {-0.1, 1.0, 1.5}) {
    opts.eager_refresh = share;
    auto res = client->get_or_compute("k", opts, versioned_loader(0ms));
    ASSERT_FALSE(res) << share;
    EXPECT_TRUE(is(res.error(), errc::invalid_config)) << sys.render(res.error());
  }
  EXPECT_EQ(loader_calls->load(), 0);
}

// Loaders that choose the TTL of what they load.
TEST_F(EagerRefresh, LoaderChosenTtlIsTheEntrysTtl) {
  auto loader = spawn_callable_ttl_loader(sys, [](const std::string& key) -> caf::expected<loaded> {
    return loaded{bytes{"short:" + key}, 300ms};
  });
  auto res = client->get_or_compute("k", {strategy::long_term()}, loader);
  ASSERT_TRUE(res) << sys.render(res.error());
  EXPECT_EQ(res->value.view(), "short:k");
  EXPECT_GT(res->ttl_ms, 0);
  EXPECT_LE(res->ttl_ms, 300);
  auto cached = client->get("k");
  ASSERT_TRUE(cached && cached->found);
  EXPECT_LE(cached->ttl_ms, 300);
  EXPECT_TRUE(eventually([&] { return !client->get("k")->found; }, 3s));
}

TEST_F(EagerRefresh, LoaderTtlOfZeroTakesTheCallsTtlAndNegativeNeverExpires) {
  auto loader = spawn_callable_ttl_loader(sys, [](const std::string& key) -> caf::expected<loaded> {
    return loaded{bytes{key}, key == "forever" ? caf::timespan{-1} : caf::timespan{0}};
  });
  auto calls = client->get_or_compute("calls", {strategy::custom(2s)}, loader);
  ASSERT_TRUE(calls) << sys.render(calls.error());
  EXPECT_GT(calls->ttl_ms, 1000);
  EXPECT_LE(calls->ttl_ms, 2000);
  auto forever = client->get_or_compute("forever", {strategy::custom(2s)}, loader);
  ASSERT_TRUE(forever) << sys.render(forever.error());
  EXPECT_EQ(forever->ttl_ms, -1);
  EXPECT_EQ(client->get("forever")->ttl_ms, -1);
}

TEST_F(EagerRefresh, TypedLoaderChoosesTheTtl) {
  auto loader = spawn_typed_ttl_loader<std::string>(
      sys, [](const std::string& key) -> caf::expected<typed_loaded<std::string>> {
        return typed_loaded<std::string>{"typed:" + key, 250ms};
      });
  auto value = typed::get_or_compute<std::string>(*client, "t", {strategy::long_term()}, loader);
  ASSERT_TRUE(value) << sys.render(value.error());
  EXPECT_EQ(*value, "typed:t");
  auto cached = client->get("t");
  ASSERT_TRUE(cached && cached->found);
  EXPECT_LE(cached->ttl_ms, 250);
}

TEST_F(EagerRefresh, RefreshWithALoaderThatChoosesTtlsWritesItsTtl) {
  auto calls = loader_calls;
  auto loader =
      spawn_callable_ttl_loader(sys, [calls](const std::string&) -> caf::expected<loaded> {
        auto n = ++*calls;
        // The refreshed value lives longer: its TTL shows the refresh wrote the loader's.
        return loaded{bytes{"v" + std::to_string(n)},
                      n == 1 ? caf::timespan{2s} : caf::timespan{1min}};
      });
  auto opts = refreshing();
  ASSERT_TRUE(client->get_or_compute("k", opts, loader));
  std::this_thread::sleep_for(age);
  auto res = client->get_or_compute("k", opts, loader);
  ASSERT_TRUE(res) << sys.render(res.error());
  EXPECT_EQ(res->value.view(), "v1");
  EXPECT_TRUE(eventually([&] { return serves("v2"); }));
  EXPECT_GT(client->get("k")->ttl_ms, 10'000);
}

// A loader that chooses a TTL far shorter than the call's: the share is of the chosen TTL,
// so fresh hits start nothing, and a hit past the share of that TTL refreshes once.
TEST_F(EagerRefresh, ShareIsOfTheTtlTheLoaderChose) {
  auto calls = loader_calls;
  auto loader =
      spawn_callable_ttl_loader(sys, [calls](const std::string&) -> caf::expected<loaded> {
        auto n = ++*calls;
        return loaded{bytes{"v" + std::to_string(n)}, caf::timespan{2s}};
      });
  compute_options opts{strategy::custom(1h)};
  opts.eager_refresh = 0.5;
  ASSERT_TRUE(client->get_or_compute("k", opts, loader));
  for (int i = 0; i < 20; ++i) {
    auto res = client->get_or_compute("k", opts, loader);
    ASSERT_TRUE(res) << sys.render(res.error());
    EXPECT_EQ(res->value.view(), "v1");
  }
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(loader_calls->load(), 1);
  EXPECT_EQ(stats().eager_refreshes, 0u);
  std::this_thread::sleep_for(age);
  ASSERT_TRUE(client->get_or_compute("k", opts, loader));
  EXPECT_TRUE(eventually([&] { return serves("v2"); }));
  EXPECT_EQ(stats().eager_refreshes, 1u);
}

} // namespace

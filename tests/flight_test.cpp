#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <caf/scoped_actor.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

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

struct profile {
  std::string name;
  std::map<std::string, std::vector<int>> scores;
  std::vector<std::vector<std::string>> tags;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(name, scores, tags);
  }

  friend bool operator==(const profile& x, const profile& y) {
    return x.name == y.name && x.scores == y.scores && x.tags == y.tags;
  }
};

// Flights are the coordinator's; these tests drive them through the cache handle with a
// real Redis L2 and loaders that count their calls.
class Flight : public mtcache::testing::actor_system_fixture {
protected:
  void SetUp() override {
    ASSERT_TRUE(redis.start()) << redis.error();
    cache_config cfg;
    cfg.add_memory_tier(tier_config::as_l1());
    redis_tier_config l2;
    l2.url = redis.url(0);
    l2.request_timeout = 2s;
    cfg.add_redis_tier(tier_config::as_l2().with_promotion_frequency(1), l2);
    redis_tier_config l3 = l2;
    l3.url = redis.url(1);
    cfg.add_redis_tier(tier_config::as_l3().with_promotion_frequency(1), l3);
    cfg.options.load_timeout = 5s;
    auto spawned = spawn_cache(sys, cfg);
    ASSERT_TRUE(spawned) << sys.render(spawned.error());
    cache = *spawned;
    client = std::make_unique<blocking_cache>(sys, *cache, 10s);
    ASSERT_TRUE(eventually([&] {
      auto h = client->health();
      return h && h->status == health_status::healthy;
    }));
  }

  void TearDown() override {
    client.reset();
    if (cache)
      stop_cache(*cache);
  }

  // A blocking loader that counts its calls and answers "loaded:<key>" after `delay`.
  loader_actor counting_loader(std::chrono::milliseconds delay, bool fail = false,
                               size_t threads = 8) {
    auto calls = loader_calls;
    return spawn_callable_loader(
        sys,
        [calls, delay, fail](const std::string& key) -> caf::expected<bytes> {
          ++*calls;
          if (delay.count() > 0)
            std::this_thread::sleep_for(delay);
          if (fail)
            return make_error(errc::loader_failed, "database down for " + key);
          return bytes{"loaded:" + key};
        },
        callable_loader_config{threads});
  }

  // Fires `n` get_or_compute requests at once and collects every answer.
  struct answers {
    std::vector<lookup> values;
    std::vector<caf::error> errors;
  };

  answers compute_all(const std::vector<std::string>& keys, compute_options opts,
                      const loader_actor& loader) {
    answers out;
    for (auto& key : keys)
      self->send(*cache, compute_atom::value, key, opts, loader);
    size_t received = 0;
    self->receive_for(received, keys.size())(
        [&](lookup& res) { out.values.emplace_back(std::move(res)); },
        [&](caf::error& err) { out.errors.emplace_back(std::move(err)); });
    return out;
  }

  cache_stats stats() {
    auto s = client->stats();
    EXPECT_TRUE(s);
    return s ? *s : cache_stats{};
  }

  mtcache::testing::redis_server redis;
  std::shared_ptr<std::atomic<int>> loader_calls = std::make_shared<std::atomic<int>>(0);
  std::optional<cache_actor> cache;
  std::unique_ptr<blocking_cache> client;
  caf::scoped_actor self{sys};
};

TEST_F(Flight, HundredConcurrentCallsOnOneColdKeyLoadOnce) {
  auto loader = counting_loader(50ms);
  auto res = compute_all(std::vector<std::string>(100, "cold"), {}, loader);
  ASSERT_TRUE(res.errors.empty()) << sys.render(res.errors.front());
  ASSERT_EQ(res.values.size(), 100u);
  for (auto& v : res.values) {
    EXPECT_TRUE(v.found);
    EXPECT_EQ(v.value.view(), "loaded:cold");
  }
  EXPECT_EQ(loader_calls->load(), 1);
  EXPECT_EQ(redis.command({"GET", "cold"}), "loaded:cold");
  EXPECT_EQ(redis.command({"GET", "cold"}, 1), "loaded:cold");
  auto again = client->get("cold");
  ASSERT_TRUE(again && again->found);
  EXPECT_EQ(again->level, 1u);
  EXPECT_TRUE(eventually([&] { return stats().in_flight == 0; }));
  auto s = stats();
  EXPECT_EQ(s.loads, 1u);
  EXPECT_EQ(s.requests, 101u);
}

TEST_F(Flight, ValueInLowerTiersIsPromotedWithoutLoading) {
  redis.command({"SET", "in-l2", "from-l2", "PX", "60000"});
  redis.command({"SET", "in-l3", "from-l3", "PX", "60000"}, 1);
  auto loader = counting_loader(0ms);
  auto l2 = compute_all(std::vector<std::string>(30, "in-l2"), {}, loader);
  auto l3 = compute_all(std::vector<std::string>(30, "in-l3"), {}, loader);
  ASSERT_EQ(l2.values.size(), 30u);
  ASSERT_EQ(l3.values.size(), 30u);
  for (auto& v : l2.values)
    EXPECT_EQ(v.value.view(), "from-l2");
  for (auto& v : l3.values)
    EXPECT_EQ(v.value.view(), "from-l3");
  EXPECT_EQ(loader_calls->load(), 0);
  EXPECT_EQ(redis.command({"GET", "in-l3"}), "from-l3");
  EXPECT_EQ(client->get("in-l3")->level, 1u);
}

TEST_F(Flight, LoaderErrorReachesEveryWaiterAndCachesNothing) {
  auto failing = counting_loader(30ms, true);
  auto res = compute_all(std::vector<std::string>(20, "flaky"), {}, failing);
  ASSERT_EQ(res.errors.size(), 20u);
  for (auto& err : res.errors)
    EXPECT_TRUE(is(err, errc::loader_failed)) << sys.render(err);
  EXPECT_EQ(loader_calls->load(), 1);
  EXPECT_EQ(redis.command({"EXISTS", "flaky"}), "0");
  EXPECT_FALSE(client->get("flaky")->found);
  auto working = counting_loader(0ms);
  auto retry = client->get_or_compute("flaky", {}, working);
  ASSERT_TRUE(retry) << sys.render(retry.error());
  EXPECT_EQ(retry->value.view(), "loaded:flaky");
  EXPECT_EQ(loader_calls->load(), 2);
  EXPECT_TRUE(eventually([&] { return stats().in_flight == 0; }));
  EXPECT_EQ(stats().load_errors, 1u);
}

TEST_F(Flight, SlowLoaderTimesOutLeavesNothingBehindAndLaterCallsWork) {
  auto slow = counting_loader(400ms);
  compute_options opts;
  opts.timeout = 100ms;
  auto begin = std::chrono::steady_clock::now();
  auto res = compute_all(std::vector<std::string>(10, "slow"), opts, slow);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 350ms);
  ASSERT_EQ(res.errors.size(), 10u);
  for (auto& err : res.errors)
    EXPECT_TRUE(is(err, errc::timeout)) << sys.render(err);
  EXPECT_TRUE(eventually([&] { return stats().in_flight == 0; }));
  // The late answer of the first load must not write anything.
  EXPECT_TRUE(eventually([&] { return loader_calls->load() == 1; }));
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(redis.command({"EXISTS", "slow"}), "0");
  EXPECT_FALSE(client->get("slow")->found);
  auto fast = counting_loader(0ms);
  auto later = client->get_or_compute("slow", {}, fast);
  ASSERT_TRUE(later) << sys.render(later.error());
  EXPECT_EQ(later->value.view(), "loaded:slow");
  EXPECT_EQ(stats().load_timeouts, 1u);
}

TEST_F(Flight, WaiterThatGivesUpDoesNotCancelTheLoadForOthers) {
  auto loader = counting_loader(200ms);
  caf::scoped_actor impatient{sys};
  bool gave_up = false;
  impatient->send(*cache, compute_atom::value, std::string{"shared"}, compute_options{}, loader);
  self->send(*cache, compute_atom::value, std::string{"shared"}, compute_options{}, loader);
  impatient->receive([](lookup&) {}, [](caf::error&) {},
                     caf::after(std::chrono::milliseconds{20}) >> [&] { gave_up = true; });
  EXPECT_TRUE(gave_up);
  self->receive([](lookup& res) { EXPECT_EQ(res.value.view(), "loaded:shared"); },
                [&](caf::error& err) { ADD_FAILURE() << sys.render(err); });
  EXPECT_EQ(loader_calls->load(), 1);
}

TEST_F(Flight, ThousandColdKeysTimesTenWaitersLoadEachKeyOnce) {
  auto loader = counting_loader(1ms, false, 16);
  std::vector<std::string> keys;
  for (int round = 0; round < 10; ++round)
    for (int k = 0; k < 1000; ++k)
      keys.push_back("key-" + std::to_string(k));
  auto res = compute_all(keys, {}, loader);
  ASSERT_TRUE(res.errors.empty()) << sys.render(res.errors.front());
  ASSERT_EQ(res.values.size(), 10000u);
  for (auto& v : res.values)
    EXPECT_TRUE(v.found);
  EXPECT_EQ(loader_calls->load(), 1000);
  EXPECT_TRUE(eventually([&] { return stats().in_flight == 0; }));
}

TEST_F(Flight, InvalidationWinsOverAFillInFlight) {
  auto slow = counting_loader(300ms);
  for (const char* change : {"remove", "set"}) {
    std::string key = std::string{"contested-"} + change;
    auto calls_before = loader_calls->load();
    self->send(*cache, compute_atom::value, key, compute_options{}, slow);
    // Change the key once the load runs (before that, the flight's walk would see the change).
    ASSERT_TRUE(eventually([&] { return loader_calls->load() == calls_before + 1; }));
    if (std::string{change} == "remove")
      ASSERT_TRUE(client->remove(key));
    else
      ASSERT_TRUE(client->set(key, bytes{"newer"}));
    self->receive([&](lookup& res) { EXPECT_EQ(res.value.view(), "loaded:" + key); },
                  [&](caf::error& err) { ADD_FAILURE() << sys.render(err); });
    EXPECT_TRUE(eventually([&] { return stats().in_flight == 0; }));
    auto now = client->get(key);
    ASSERT_TRUE(now);
    if (std::string{change} == "remove") {
      EXPECT_FALSE(now->found);
      EXPECT_EQ(redis.command({"EXISTS", key}), "0");
    } else {
      EXPECT_EQ(now->value.view(), "newer");
      EXPECT_EQ(redis.command({"GET", key}), "newer");
    }
  }
  EXPECT_EQ(stats().superseded_fills, 2u);
}

TEST_F(Flight, ConcurrentPlainGetsOfAMissingKeyShareOneLookup) {
  redis.pause();
  for (int i = 0; i < 50; ++i)
    self->send(*cache, get_atom::value, std::string{"nobody"});
  std::this_thread::sleep_for(100ms);
  redis.resume();
  size_t received = 0;
  self->receive_for(received,
                    size_t{50})([](lookup& res) { EXPECT_FALSE(res.found); },
                                [&](caf::error& err) { ADD_FAILURE() << sys.render(err); });
  EXPECT_EQ(received, 50u);
  auto tiers = client->tiers();
  ASSERT_TRUE(tiers);
  EXPECT_EQ((*tiers)[1].misses, 1u);
  EXPECT_EQ((*tiers)[2].misses, 1u);
  EXPECT_EQ(stats().misses, 50u);
}

TEST_F(Flight, TypedValuesRoundTripAndComputeOnce) {
  profile ada{"Ada", {{"math", {1, 2, 3}}, {"poetry", {}}}, {{"a", "b"}, {}}};
  ASSERT_TRUE(typed::set(*client, "profile:ada", ada));
  auto read = typed::get<profile>(*client, "profile:ada");
  ASSERT_TRUE(read);
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ(**read, ada);
  auto calls = loader_calls;
  auto loader =
      spawn_typed_loader<profile>(sys, [calls](const std::string& key) -> caf::expected<profile> {
        ++*calls;
        return profile{key, {{"x", {42}}}, {}};
      });
  for (int i = 0; i < 3; ++i) {
    auto p = typed::get_or_compute<profile>(*client, "profile:bob", {}, loader);
    ASSERT_TRUE(p) << sys.render(p.error());
    EXPECT_EQ(p->name, "profile:bob");
    EXPECT_EQ(p->scores.at("x"), std::vector<int>{42});
  }
  EXPECT_EQ(loader_calls->load(), 1);
}

TEST_F(Flight, CorruptBytesUnderATypedKeyAreAMissAndRecomputed) {
  ASSERT_TRUE(client->set("profile:eve", bytes{"definitely not cereal"}));
  auto as_get = typed::get<profile>(*client, "profile:eve");
  ASSERT_TRUE(as_get);
  EXPECT_FALSE(as_get->has_value());
  ASSERT_TRUE(client->set("profile:eve", bytes{"still garbage"}));
  auto calls = loader_calls;
  auto loader =
      spawn_typed_loader<profile>(sys, [calls](const std::string& key) -> caf::expected<profile> {
        ++*calls;
        return profile{key, {}, {}};
      });
  auto p = typed::get_or_compute<profile>(*client, "profile:eve", {}, loader);
  ASSERT_TRUE(p) << sys.render(p.error());
  EXPECT_EQ(p->name, "profile:eve");
  EXPECT_EQ(loader_calls->load(), 1);
  EXPECT_EQ(stats().decode_failed, 2u);
  // The recomputed value is what the tiers hold now.
  auto again = typed::get<profile>(*client, "profile:eve");
  ASSERT_TRUE(again && again->has_value());
}

TEST_F(Flight, StatsBalanceAfterAMixOfOutcomes) {
  auto ok = counting_loader(5ms);
  auto failing = counting_loader(5ms, true);
  compute_options quick;
  quick.timeout = 50ms;
  auto slow = counting_loader(200ms);
  compute_all(std::vector<std::string>(5, "m1"), {}, ok);
  compute_all(std::vector<std::string>(5, "m2"), {}, failing);
  compute_all(std::vector<std::string>(5, "m3"), quick, slow);
  client->get("m1");
  client->get("absent");
  ASSERT_TRUE(eventually([&] { return stats().in_flight == 0; }));
  auto s = stats();
  uint64_t hits = 0;
  for (auto h : s.tier_hits)
    hits += h;
  EXPECT_EQ(s.requests, 17u);
  EXPECT_EQ(hits + s.misses + s.failed, s.requests);
  EXPECT_EQ(s.failed, 10u);
}

// Fail-safe: the memory tier keeps expired values for a window; loads that fail, time out
// or run past the soft timeout answer with them, marked stale.
class FailSafe : public mtcache::testing::actor_system_fixture {
protected:
  void start(bool cache_wide = false) {
    cache_config cfg;
    memory_tier_config l1;
    l1.fail_safe_window = 10s;
    cfg.add_memory_tier(tier_config::as_l1(), l1);
    cfg.options.fail_safe = cache_wide;
    cache = *spawn_cache(sys, cfg);
    client = std::make_unique<blocking_cache>(sys, *cache, 10s);
  }

  void TearDown() override {
    client.reset();
    if (cache)
      stop_cache(*cache);
  }

  loader_actor loader(std::string value, std::chrono::milliseconds delay = 0ms, bool fail = false) {
    auto calls = loader_calls;
    return spawn_callable_loader(sys, [=](const std::string&) -> caf::expected<bytes> {
      ++*calls;
      std::this_thread::sleep_for(delay);
      if (fail)
        return make_error(errc::loader_failed, "source down");
      return bytes{value};
    });
  }

  // Caches "v1" for 50 ms and waits until it expired.
  void cache_then_expire() {
    compute_options opts{strategy::custom(50ms)};
    ASSERT_TRUE(client->get_or_compute("k", opts, loader("v1")));
    ASSERT_TRUE(eventually([&] { return !client->get("k")->found; }));
  }

  std::optional<cache_actor> cache;
  std::unique_ptr<blocking_cache> client;
  std::shared_ptr<std::atomic<int>> loader_calls = std::make_shared<std::atomic<int>>(0);
};

TEST_F(FailSafe, StaleValueAnswersWhenTheLoaderFailsAndTheNextCallRetries) {
  start();
  cache_then_expire();
  compute_options opts{strategy::custom(1min)};
  opts.fail_safe = true;
  auto res = client->get_or_compute("k", opts, loader("v2", 0ms, true));
  ASSERT_TRUE(res) << sys.render(res.error());
  EXPECT_TRUE(res->stale);
  EXPECT_EQ(res->value.view(), "v1");
  EXPECT_EQ(client->stats()->stale_served, 1u);
  auto fresh = client->get_or_compute("k", opts, loader("v2"));
  ASSERT_TRUE(fresh) << sys.render(fresh.error());
  EXPECT_FALSE(fresh->stale);
  EXPECT_EQ(fresh->value.view(), "v2");
  EXPECT_EQ(loader_calls->load(), 3);
}

TEST_F(FailSafe, StaleValueAnswersWhenTheLoadTimesOut) {
  start();
  cache_then_expire();
  compute_options opts{strategy::custom(1min)};
  opts.fail_safe = true;
  opts.timeout = 100ms;
  auto res = client->get_or_compute("k", opts, loader("v2", 500ms));
  ASSERT_TRUE(res) << sys.render(res.error());
  EXPECT_TRUE(res->stale);
  EXPECT_EQ(res->value.view(), "v1");
}

TEST_F(FailSafe, SoftTimeoutAnswersAtOnceAndRefreshesInTheBackground) {
  start();
  cache_then_expire();
  compute_options opts{strategy::custom(1min)};
  opts.fail_safe = true;
  opts.soft_timeout = 50ms;
  auto begin = std::chrono::steady_clock::now();
  auto res = client->get_or_compute("k", opts, loader("v2", 400ms));
  auto took = std::chrono::steady_clock::now() - begin;
  ASSERT_TRUE(res) << sys.render(res.error());
  EXPECT_TRUE(res->stale);
  EXPECT_EQ(res->value.view(), "v1");
  EXPECT_LT(took, 350ms);
  EXPECT_TRUE(eventually([&] {
    auto now = client->get("k");
    return now && now->found && !now->stale && now->value.view() == "v2";
  }));
}

TEST_F(FailSafe, CacheWideFailSafeAppliesToEveryCall) {
  start(true);
  cache_then_expire();
  auto res = client->get_or_compute("k", {strategy::custom(1min)}, loader("v2", 0ms, true));
  ASSERT_TRUE(res) << sys.render(res.error());
  EXPECT_TRUE(res->stale);
}

TEST_F(FailSafe, WithoutAStaleValueTheErrorStands) {
  start();
  compute_options opts;
  opts.fail_safe = true;
  auto res = client->get_or_compute("never-cached", opts, loader("v", 0ms, true));
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::loader_failed));
}

} // namespace

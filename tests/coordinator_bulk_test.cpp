// Reads of many keys (actors/detail/coordinator_bulk.cpp) on a memory L1 and a Redis L2 of a
// redis-server of the test's own: one batched read per tier, one bulk loader call for every
// key no tier has, results in request order, flights shared with single-key requests both
// ways, and every failure of the loader a typed error of the keys it concerns.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "mtcache/actors/callable_loader.hpp"
#include "mtcache/messages/error.hpp"
#include "mtcache/runtime/blocking_client.hpp"
#include "mtcache/runtime/spawn_cache.hpp"
#include "support/actor_system_fixture.hpp"
#include "support/redis_server.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using mtcache::testing::eventually;

namespace {

class BulkReads : public mtcache::testing::actor_system_fixture {
protected:
  void SetUp() override {
    ASSERT_TRUE(redis.start()) << redis.error();
    cache_config cfg = cache_config::embedded();
    redis_tier_config r;
    r.url = redis.url();
    // Every L2 hit promotes, so that the test can see it.
    cfg.add_redis_tier(tier_config::as_l2().with_promotion_frequency(1), r);
    auto spawned = spawn_cache(sys, cfg);
    ASSERT_TRUE(spawned) << sys.render(spawned.error());
    cache = *spawned;
    client = std::make_unique<blocking_cache>(sys, *cache, 10s);
    ASSERT_TRUE(eventually([&] { return static_cast<bool>(client->set("warm", bytes{"v"})); }));
  }

  void TearDown() override {
    client.reset();
    if (cache)
      stop_cache(*cache);
  }

  // Counts its calls and the keys of each; answers "loaded:<key>" after `delay`.
  bulk_loader_actor counting_loader(std::chrono::milliseconds delay = 0ms) {
    auto seen = asked;
    auto calls = bulk_calls;
    return spawn_callable_bulk_loader(sys, [=](const std::vector<std::string>& keys) {
      ++*calls;
      {
        std::lock_guard<std::mutex> guard{seen->mtx};
        seen->keys.push_back(keys);
      }
      std::this_thread::sleep_for(delay);
      std::vector<bulk_entry> out;
      for (auto& key : keys)
        out.push_back(bulk_entry::of(bytes{"loaded:" + key}));
      return caf::expected<std::vector<bulk_entry>>{std::move(out)};
    });
  }

  // Requests the Redis tier sent of one kind ("get", "get_batch"), from its histogram.
  uint64_t redis_ops(const std::string& op) {
    auto tiers = client->tiers();
    if (!tiers || tiers->size() < 2)
      return 0;
    for (auto& o : (*tiers)[1].ops)
      if (o.op == op) {
        uint64_t n = 0;
        for (auto c : o.latency.counts)
          n += c;
        return n;
      }
    return 0;
  }

  cache_stats stats() {
    auto s = client->stats();
    EXPECT_TRUE(s);
    return s ? *s : cache_stats{};
  }

  static std::string value_of(const bulk_lookup& res, size_t i) {
    return res.results.at(i).found ? res.results[i].value.str() : "miss";
  }

  struct asked_keys {
    std::mutex mtx;
    std::vector<std::vector<std::string>> keys;
  };

  mtcache::testing::redis_server redis;
  std::optional<cache_actor> cache;
  std::unique_ptr<blocking_cache> client;
  std::shared_ptr<asked_keys> asked = std::make_shared<asked_keys>();
  std::shared_ptr<std::atomic<int>> bulk_calls = std::make_shared<std::atomic<int>>(0);
};

TEST_F(BulkReads, GetManyAnswersInOrderWithOneBatchedReadOfRedis) {
  ASSERT_TRUE(client->set("both", bytes{"b"}));
  redis.command({"SET", "redis-only", "r"});
  auto gets_before = redis_ops("get");
  auto batches_before = redis_ops("get_batch");
  auto res = client->get_many({"both", "nowhere", "redis-only", "both", "", "redis-only"});
  ASSERT_TRUE(res) << sys.render(res.error());
  ASSERT_EQ(res->results.size(), 6u);
  ASSERT_EQ(res->errors.size(), 6u);
  EXPECT_EQ(value_of(*res, 0), "b");
  EXPECT_EQ(res->results[0].level, 1u);
  EXPECT_EQ(value_of(*res, 1), "miss");
  EXPECT_EQ(value_of(*res, 2), "r");
  EXPECT_EQ(res->results[2].level, 2u);
  EXPECT_EQ(value_of(*res, 3), "b");
  EXPECT_TRUE(is(res->errors[4], errc::invalid_key)) << sys.render(res->errors[4]);
  EXPECT_EQ(value_of(*res, 5), "r");
  for (size_t i : {0, 1, 2, 3, 5})
    EXPECT_FALSE(res->errors[i]) << i;
  // Two keys missed L1; Redis got them in one batch and no single read.
  EXPECT_EQ(redis_ops("get_batch") - batches_before, 1u);
  EXPECT_EQ(redis_ops("get") - gets_before, 0u);
  // The L2 hit was promoted into L1 through its flight.
  EXPECT_TRUE(eventually([&] { return client->view().get("redis-only").has_value(); }));
  auto s = stats();
  EXPECT_EQ(s.promotions, 1u);
  EXPECT_EQ(s.rejected, 1u);
}

TEST_F(BulkReads, GetOrComputeManyLoadsEveryMissWithOneCall) {
  // 1 000 keys: a quarter in both tiers, a quarter in Redis only, half in neither.
  std::vector<std::string> keys;
  std::vector<std::string> cold;
  for (int i = 0; i < 1000; ++i) {
    auto key = "k" + std::to_string(i);
    keys.push_back(key);
    if (i % 4 == 0)
      ASSERT_TRUE(client->set(key, bytes{"cached:" + key}));
    else if (i % 4 == 1)
      redis.command({"SET", key, "cached:" + key});
    else
      cold.push_back(key);
  }
  auto batches_before = redis_ops("get_batch");
  auto gets_before = redis_ops("get");
  auto res = client->get_or_compute_many(keys, {strategy::long_term()}, counting_loader());
  ASSERT_TRUE(res) << sys.render(res.error());
  ASSERT_EQ(res->results.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSERT_FALSE(res->errors[i]) << keys[i] << ": " << sys.render(res->errors[i]);
    auto expected = (i % 4 < 2 ? "cached:" : "loaded:") + keys[i];
    ASSERT_EQ(value_of(*res, i), expected) << i;
  }
  EXPECT_EQ(bulk_calls->load(), 1);
  {
    std::lock_guard<std::mutex> guard{asked->mtx};
    ASSERT_EQ(asked->keys.size(), 1u);
    EXPECT_EQ(asked->keys[0], cold);
  }
  EXPECT_EQ(redis_ops("get_batch") - batches_before, 1u);
  EXPECT_EQ(redis_ops("get") - gets_before, 0u);
  // Loaded values went to both tiers before the answer.
  EXPECT_EQ(redis.command({"GET", "k2"}), "loaded:k2");
  EXPECT_TRUE(client->view().get("k2").has_value());
  auto s = stats();
  EXPECT_EQ(s.loads, 1u);
  EXPECT_EQ(s.requests, s.tier_hits[0] + s.tier_hits[1] + s.misses + s.failed);
  // Everything is cached now: no second call.
  auto again = client->get_or_compute_many(keys, {strategy::long_term()}, counting_loader());
  ASSERT_TRUE(again);
  EXPECT_EQ(value_of(*again, 2), "loaded:k2");
  EXPECT_EQ(bulk_calls->load(), 1);
}

TEST_F(BulkReads, SingleKeyComputeJoinsTheBulkLoad) {
  caf::scoped_actor self{sys};
  std::vector<std::string> keys{"a", "b", "c"};
  self->send(*cache, compute_atom::value, keys, compute_options{}, counting_loader(400ms));
  ASSERT_TRUE(eventually([&] { return bulk_calls->load() == 1; }));
  auto single_calls = std::make_shared<std::atomic<int>>(0);
  auto single = spawn_callable_loader(sys, [=](const std::string& key) -> caf::expected<bytes> {
    ++*single_calls;
    return bytes{"single:" + key};
  });
  auto res = client->get_or_compute("b", {}, single);
  ASSERT_TRUE(res) << sys.render(res.error());
  EXPECT_EQ(res->value.str(), "loaded:b");
  EXPECT_EQ(single_calls->load(), 0);
  self->receive(
      [&](bulk_lookup& all) {
        EXPECT_EQ(value_of(all, 0), "loaded:a");
        EXPECT_EQ(value_of(all, 1), "loaded:b");
        EXPECT_EQ(value_of(all, 2), "loaded:c");
      },
      [&](caf::error& err) { ADD_FAILURE() << sys.render(err); },
      caf::after(10s) >> [] { ADD_FAILURE() << "no answer"; });
  EXPECT_EQ(bulk_calls->load(), 1);
  EXPECT_GE(stats().flight_joins, 1u);
}

TEST_F(BulkReads, BulkJoinsARunningSingleKeyLoad) {
  auto single_calls = std::make_shared<std::atomic<int>>(0);
  auto single = spawn_callable_loader(sys, [=](const std::string& key) -> caf::expected<bytes> {
    ++*single_calls;
    std::this_thread::sleep_for(400ms);
    return bytes{"single:" + key};
  });
  caf::scoped_actor self{sys};
  self->send(*cache, compute_atom::value, std::string{"x"}, compute_options{}, single);
  ASSERT_TRUE(eventually([&] { return single_calls->load() == 1; }));
  auto res = client->get_or_compute_many({"x", "y"}, {}, counting_loader());
  ASSERT_TRUE(res) << sys.render(res.error());
  EXPECT_EQ(value_of(*res, 0), "single:x");
  EXPECT_EQ(value_of(*res, 1), "loaded:y");
  std::lock_guard<std::mutex> guard{asked->mtx};
  ASSERT_EQ(asked->keys.size(), 1u);
  EXPECT_EQ(asked->keys[0], std::vector<std::string>{"y"});
  EXPECT_EQ(single_calls->load(), 1);
}

TEST_F(BulkReads, ConcurrentSingleAndBulkCallsLoadEachKeyOnce) {
  // Every load of a key, by either loader, counted per key.
  struct loads_per_key {
    std::mutex mtx;
    std::map<std::string, int> count;
    void add(const std::string& key) {
      std::lock_guard<std::mutex> guard{mtx};
      ++count[key];
    }
  };
  auto loads = std::make_shared<loads_per_key>();
  auto bulk = spawn_callable_bulk_loader(sys, [=](const std::vector<std::string>& keys) {
    std::vector<bulk_entry> out;
    for (auto& key : keys) {
      loads->add(key);
      out.push_back(bulk_entry::of(bytes{"loaded:" + key}));
    }
    std::this_thread::sleep_for(20ms);
    return caf::expected<std::vector<bulk_entry>>{std::move(out)};
  });
  auto single = spawn_callable_loader(sys, [=](const std::string& key) -> caf::expected<bytes> {
    loads->add(key);
    std::this_thread::sleep_for(5ms);
    return bytes{"loaded:" + key};
  });
  constexpr int n = 200;
  std::vector<std::string> keys;
  for (int i = 0; i < n; ++i)
    keys.push_back("c" + std::to_string(i));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < n; ++i) {
        auto& key = keys[(i * 7 + t * 61) % n];
        auto res = client->get_or_compute(key, {strategy::long_term()}, single);
        if (!res || res->value.str() != "loaded:" + key)
          ++wrong;
      }
    });
  for (int round = 0; round < 3; ++round) {
    // Overlapping slices, so that bulk calls meet each other's flights too.
    std::vector<std::string> slice(keys.begin() + round * 50, keys.begin() + round * 50 + 100);
    auto res = client->get_or_compute_many(slice, {strategy::long_term()}, bulk);
    ASSERT_TRUE(res) << sys.render(res.error());
    for (size_t i = 0; i < slice.size(); ++i)
      if (res->errors[i] || value_of(*res, i) != "loaded:" + slice[i])
        ++wrong;
  }
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(wrong.load(), 0);
  std::lock_guard<std::mutex> guard{loads->mtx};
  EXPECT_EQ(loads->count.size(), static_cast<size_t>(n));
  for (auto& [key, count] : loads->count)
    EXPECT_EQ(count, 1) << key;
}

TEST_F(BulkReads, EntriesMayBeAbsentOrFailAlone) {
  auto loader = spawn_callable_bulk_loader(sys, [](const std::vector<std::string>& keys) {
    std::vector<bulk_entry> out;
    for (auto& key : keys)
      out.push_back(key == "gone"  ? bulk_entry::absent()
                    : key == "bad" ? bulk_entry::failure(make_error(errc::backend_error, "row"))
                                   : bulk_entry::of(bytes{"v:" + key}, 60s));
    return caf::expected<std::vector<bulk_entry>>{std::move(out)};
  });
  auto res = client->get_or_compute_many({"gone", "bad", "fine"}, {}, loader);
  ASSERT_TRUE(res) << sys.render(res.error());
  EXPECT_EQ(value_of(*res, 0), "miss");
  EXPECT_FALSE(res->errors[0]);
  EXPECT_TRUE(is(res->errors[1], errc::backend_error)) << sys.render(res->errors[1]);
  EXPECT_EQ(value_of(*res, 2), "v:fine");
  EXPECT_GT(res->results[2].ttl_ms, 0);
  EXPECT_LE(res->results[2].ttl_ms, 60'000);
  // Nothing of the absent or failed keys was cached.
  EXPECT_EQ(redis.command({"EXISTS", "gone"}), "0");
  EXPECT_EQ(redis.command({"EXISTS", "bad"}), "0");
  EXPECT_EQ(redis.command({"GET", "fine"}), "v:fine");
}

// A bulk loader that answers one entry too few, or fails outright.
bulk_loader_actor::behavior_type short_loader(bulk_loader_actor::pointer) {
  return {
      [](load_atom, const std::vector<std::string>& keys) {
        return std::vector<bulk_entry>(keys.size() - 1, bulk_entry::of(bytes{"x"}));
      },
  };
}

bulk_loader_actor::behavior_type failing_loader(bulk_loader_actor::pointer) {
  return {
      [](load_atom, const std::vector<std::string>&) -> caf::result<std::vector<bulk_entry>> {
        return make_error(errc::backend_unavailable, "database down");
      },
  };
}

TEST_F(BulkReads, WrongCountOrFailedLoaderFailsEveryMissingKeyAlone) {
  ASSERT_TRUE(client->set("hit", bytes{"h"}));
  for (auto loader : {sys.spawn(short_loader), sys.spawn(failing_loader)}) {
    auto res = client->get_or_compute_many({"hit", "m1", "m2"}, {}, loader);
    ASSERT_TRUE(res) << sys.render(res.error());
    EXPECT_EQ(value_of(*res, 0), "h");
    EXPECT_FALSE(res->errors[0]);
    for (size_t i : {1, 2}) {
      EXPECT_EQ(value_of(*res, i), "miss");
      EXPECT_TRUE(is(res->errors[i], errc::loader_failed) ||
                  is(res->errors[i], errc::backend_unavailable))
          << sys.render(res->errors[i]);
    }
    caf::anon_send_exit(loader, caf::exit_reason::user_shutdown);
  }
  // The failures left nothing behind: a working loader loads the keys now.
  auto res = client->get_or_compute_many({"m1", "m2"}, {}, counting_loader());
  ASSERT_TRUE(res);
  EXPECT_EQ(value_of(*res, 0), "loaded:m1");
  auto s = stats();
  EXPECT_EQ(s.loads, 3u);
  EXPECT_EQ(s.load_errors, 2u);
  EXPECT_EQ(s.failed, 4u);
}

TEST_F(BulkReads, SlowLoaderTimesOutWithATypedError) {
  compute_options opts;
  opts.timeout = 100ms;
  auto res = client->get_or_compute_many({"slow1", "slow2"}, opts, counting_loader(500ms));
  ASSERT_TRUE(res) << sys.render(res.error());
  for (size_t i : {0, 1})
    EXPECT_TRUE(is(res->errors[i], errc::timeout)) << sys.render(res->errors[i]);
  EXPECT_EQ(stats().load_timeouts, 1u);
}

TEST_F(BulkReads, EagerRefreshOutsideZeroToOneIsRefused) {
  compute_options opts;
  opts.eager_refresh = 1.0;
  auto res = client->get_or_compute_many({"k"}, opts, counting_loader());
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::invalid_config)) << sys.render(res.error());
  EXPECT_EQ(bulk_calls->load(), 0);
}

TEST_F(BulkReads, RefreshesDueInOnePassGoToTheBulkLoaderInOneCall) {
  auto calls = bulk_calls;
  auto seen = asked;
  auto loader = spawn_callable_bulk_loader(sys, [=](const std::vector<std::string>& keys) {
    auto n = ++*calls;
    {
      std::lock_guard<std::mutex> guard{seen->mtx};
      seen->keys.push_back(keys);
    }
    std::this_thread::sleep_for(300ms);
    std::vector<bulk_entry> out;
    for (auto& key : keys)
      out.push_back(bulk_entry::of(bytes{"v" + std::to_string(n) + ":" + key}));
    return caf::expected<std::vector<bulk_entry>>{std::move(out)};
  });
  // TTL 2 s, refreshed past half of it.
  compute_options opts{strategy::custom(2s)};
  opts.eager_refresh = 0.5;
  std::vector<std::string> keys{"r1", "r2", "r3"};
  ASSERT_TRUE(client->get_or_compute_many(keys, opts, loader));
  std::this_thread::sleep_for(1200ms);
  auto begin = std::chrono::steady_clock::now();
  auto res = client->get_or_compute_many(keys, opts, loader);
  auto took = std::chrono::steady_clock::now() - begin;
  ASSERT_TRUE(res) << sys.render(res.error());
  for (size_t i = 0; i < keys.size(); ++i)
    EXPECT_EQ(value_of(*res, i), "v1:" + keys[i]);
  EXPECT_LT(took, 250ms) << "the caller waited for the refresh";
  EXPECT_TRUE(eventually([&] {
    auto now = client->get_many(keys);
    return now && value_of(*now, 0) == "v2:r1" && value_of(*now, 2) == "v2:r3";
  }));
  EXPECT_EQ(bulk_calls->load(), 2);
  {
    std::lock_guard<std::mutex> guard{asked->mtx};
    ASSERT_EQ(asked->keys.size(), 2u);
    EXPECT_EQ(asked->keys[1], keys);
  }
  auto s = stats();
  EXPECT_EQ(s.eager_refreshes, 3u);
  EXPECT_EQ(s.loads, 2u);
  EXPECT_EQ(s.requests, s.tier_hits[0] + s.tier_hits[1] + s.misses + s.failed);
}

TEST_F(BulkReads, StoppingTheCacheAnswersAPassUnderWay) {
  caf::scoped_actor self{sys};
  self->send(*cache, compute_atom::value, std::vector<std::string>{"p1", "p2"}, compute_options{},
             counting_loader(1s));
  ASSERT_TRUE(eventually([&] { return bulk_calls->load() == 1; }));
  client.reset();
  stop_cache(*cache);
  cache.reset();
  auto begin = std::chrono::steady_clock::now();
  self->receive(
      [&](bulk_lookup&) { ADD_FAILURE() << "answered with values"; },
      [&](caf::error& err) { EXPECT_TRUE(is(err, errc::shutting_down)) << sys.render(err); },
      caf::after(5s) >> [] { ADD_FAILURE() << "no answer"; });
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 500ms);
}

// A bulk call that joins someone else's load waits for it only as long as its own deadline
// allows (its load timeout plus its tier reads), then answers that key with errc::timeout.
TEST_F(BulkReads, JoinedLoadPastThePassDeadlineIsATypedTimeout) {
  cache_config cfg = cache_config::embedded();
  cfg.options.tier_timeout = 50ms;
  auto own = spawn_cache(sys, cfg);
  ASSERT_TRUE(own) << sys.render(own.error());
  blocking_cache local{sys, *own, 10s};
  auto started = std::make_shared<std::atomic<bool>>(false);
  auto slow = spawn_callable_loader(sys, [=](const std::string&) -> caf::expected<bytes> {
    *started = true;
    std::this_thread::sleep_for(1500ms);
    return bytes{"late"};
  });
  caf::scoped_actor self{sys};
  compute_options patient;
  patient.timeout = 5s;
  self->send(*own, compute_atom::value, std::string{"j"}, patient, slow);
  ASSERT_TRUE(eventually([&] { return started->load(); }));
  compute_options hasty;
  hasty.timeout = 100ms;
  auto begin = std::chrono::steady_clock::now();
  auto res = local.get_or_compute_many({"j"}, hasty, counting_loader());
  ASSERT_TRUE(res) << sys.render(res.error());
  EXPECT_TRUE(is(res->errors[0], errc::timeout)) << sys.render(res->errors[0]);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 1200ms);
  self->receive([](lookup&) {}, [&](caf::error& err) { ADD_FAILURE() << sys.render(err); },
                caf::after(5s) >> [] { ADD_FAILURE() << "no answer"; });
  stop_cache(*own);
}

} // namespace

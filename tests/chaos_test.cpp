// Chaos: real redis-server children killed (SIGKILL) or frozen (SIGSTOP) under steady load
// from several actors on two nodes. Labelled `chaos` in CTest.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <caf/event_based_actor.hpp>

#include "support/outage_scenario.hpp"
#include "support/redis_server.hpp"
#include "support/two_nodes.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using mtcache::testing::eventually;
using mtcache::testing::node;

namespace {

constexpr auto request_timeout = 2s;

// What the load actors saw. Latencies in microseconds.
struct load_report {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> l1_hits{0};
  std::atomic<uint64_t> l1_hits_while_down{0};
  std::atomic<uint64_t> sets{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> unanswered{0};
  std::atomic<int64_t> max_latency_us{0};
  std::atomic<bool> redis_down{false};

  void latency(clock_type::time_point since) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - since);
    auto prev = max_latency_us.load();
    while (us.count() > prev && !max_latency_us.compare_exchange_weak(prev, us.count()))
      ;
  }
};

// An actor that reads L1-resident keys (and, unless `reads_only`, writes every fourth
// request), one request at a time, until told to stop. Every answer or timeout is counted.
void spawn_load(node& n, std::shared_ptr<load_report> report, int id, bool reads_only = false) {
  auto cache = n.client().handle();
  n.sys().spawn([=](caf::event_based_actor* self) {
    auto step = std::make_shared<std::function<void(uint64_t)>>();
    *step = [=](uint64_t i) {
      if (report->stop) {
        self->quit();
        return;
      }
      auto begin = clock_type::now();
      auto next = [=] { (*step)(i + 1); };
      if (reads_only || i % 4 != 3) {
        auto key = "hot-" + std::to_string((id * 7 + i) % 20);
        self->request(cache, request_timeout, get_atom::value, key)
            .then(
                [=](const lookup& res) {
                  report->latency(begin);
                  if (res.found && res.level == 1) {
                    ++report->l1_hits;
                    if (report->redis_down)
                      ++report->l1_hits_while_down;
                  }
                  next();
                },
                [=](caf::error& err) {
                  report->latency(begin);
                  ++(err == caf::sec::request_timeout ? report->unanswered : report->errors);
                  next();
                });
      } else {
        auto key = "cold-" + std::to_string(id) + "-" + std::to_string(i % 50);
        self->request(cache, request_timeout, put_atom::value, key, bytes{"x"},
                      strategy::short_term())
            .then(
                [=](const write_ack&) {
                  report->latency(begin);
                  ++report->sets;
                  next();
                },
                [=](caf::error& err) {
                  report->latency(begin);
                  ++(err == caf::sec::request_timeout ? report->unanswered : report->errors);
                  next();
                });
      }
    };
    (*step)(0);
    self->attach_functor([step] { *step = nullptr; });
  });
}

// Versions written on A and read on B. Invalidation is asynchronous, so B may lag A by the
// propagation delay (about a millisecond, see bench/invalidation_bench); what recovery must
// rule out is lasting staleness from messages lost while Redis was away. So once B
// recovered, no read may return a version older than the newest one A had acknowledged
// (on every tier) more than `propagation_bound` before the read began.
constexpr auto propagation_bound = 250ms;

struct version_log {
  std::mutex mtx;
  std::vector<std::pair<clock_type::time_point, uint64_t>> acked;
  uint64_t stale_reads_after_recovery = 0;
  uint64_t reads_after_recovery = 0;
  clock_type::duration worst_lag{0};

  // Checks one read of `version` that began at `begin`.
  void check(clock_type::time_point begin, uint64_t version) {
    ++reads_after_recovery;
    for (auto& [when, v] : acked) {
      if (v > version && when < begin) {
        worst_lag = std::max(worst_lag, begin - when);
        if (begin - when > propagation_bound)
          ++stale_reads_after_recovery;
        return;
      }
    }
  }
};

cache_config chaos_config(const mtcache::testing::redis_server& redis, const std::string& id) {
  auto cfg = mtcache::testing::redis_node_config(redis, id);
  cfg.tiers[1].redis.request_timeout = 300ms;
  cfg.tiers[1].redis.connect_timeout = 300ms;
  cfg.tiers[1].redis.backoff_initial = 20ms;
  cfg.tiers[1].redis.backoff_max = 200ms;
  cfg.invalidation.backoff_initial = 20ms;
  cfg.invalidation.backoff_max = 200ms;
  cfg.options.tier_timeout = 500ms;
  return cfg;
}

class Chaos : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_TRUE(redis.start()) << redis.error();
    a = std::make_unique<node>(chaos_config(redis, "a"));
    b = std::make_unique<node>(chaos_config(redis, "b"));
    ASSERT_TRUE(a->ok() && b->ok());
    ASSERT_TRUE(
        eventually([&] { return a->bridge().redis_subscribed && b->bridge().redis_subscribed; }));
    for (int k = 0; k < 20; ++k) {
      ASSERT_TRUE(a->client().set("hot-" + std::to_string(k), bytes{"h"}, strategy::long_term()));
      ASSERT_TRUE(b->client().get("hot-" + std::to_string(k)));
    }
  }

  mtcache::testing::redis_server redis;
  std::unique_ptr<node> a;
  std::unique_ptr<node> b;
};

TEST_F(Chaos, RedisKilledUnderLoadRecoversWithoutStaleReads) {
  auto report = std::make_shared<load_report>();
  for (int i = 0; i < 3; ++i) {
    spawn_load(*a, report, i);
    spawn_load(*b, report, 10 + i);
  }
  version_log versions;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> recovered_at{0};
  std::thread writer{[&] {
    for (uint64_t v = 1; !stop; ++v) {
      auto ack = a->client().call<write_ack>(update_atom::value, std::string{"ver"},
                                             bytes{std::to_string(v)}, caf::timespan{1min});
      if (ack && ack->failed.empty()) {
        std::lock_guard<std::mutex> guard{versions.mtx};
        versions.acked.emplace_back(clock_type::now(), v);
      }
      std::this_thread::sleep_for(5ms);
    }
  }};
  std::thread reader{[&] {
    while (!stop) {
      auto begin = clock_type::now();
      auto res = b->client().get("ver");
      if (res && res->found && recovered_at.load() != 0 &&
          begin.time_since_epoch().count() > recovered_at.load()) {
        std::lock_guard<std::mutex> guard{versions.mtx};
        versions.check(begin, std::stoull(res->value.str()));
      }
      std::this_thread::sleep_for(2ms);
    }
  }};
  std::this_thread::sleep_for(500ms);
  auto hits_before = report->l1_hits.load();
  redis.kill();
  report->redis_down = true;
  std::this_thread::sleep_for(2s);
  ASSERT_TRUE(redis.restart()) << redis.error();
  auto back = clock_type::now();
  report->redis_down = false;
  // The tier and the bridge reconnect within about a second (backoff is at most 200 ms).
  ASSERT_TRUE(eventually([&] {
    auto tiers = b->client().tiers();
    return tiers && (*tiers)[1].connected && b->bridge().redis_subscribed &&
           b->bridge().recoveries >= 1;
  }));
  auto reconnected_in = clock_type::now() - back;
  recovered_at = clock_type::now().time_since_epoch().count();
  std::this_thread::sleep_for(1s);
  stop = true;
  writer.join();
  reader.join();
  report->stop = true;
  std::this_thread::sleep_for(100ms);

  EXPECT_LT(reconnected_in, 1500ms);
  EXPECT_GT(report->l1_hits.load(), hits_before);
  EXPECT_GT(report->l1_hits_while_down.load(), 100u) << "L1 hits keep succeeding throughout";
  EXPECT_EQ(report->unanswered.load(), 0u) << "every request answered within its timeout";
  EXPECT_EQ(report->errors.load(), 0u);
  EXPECT_LT(report->max_latency_us.load(), 1'500'000);
  auto a_stats = a->client().stats();
  ASSERT_TRUE(a_stats);
  EXPECT_GT(a_stats->tier_errors, 0u) << "L2 errors are counted";
  EXPECT_GE(a->bridge().recoveries, 1u);
  EXPECT_GT(versions.reads_after_recovery, 50u);
  std::printf(
      "reconnected in %lld ms; worst lag of B behind an acknowledged write: %lld ms\n",
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(reconnected_in).count()),
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(versions.worst_lag).count()));
  EXPECT_EQ(versions.stale_reads_after_recovery, 0u)
      << "worst lag behind an acknowledged write: "
      << std::chrono::duration_cast<std::chrono::milliseconds>(versions.worst_lag).count() << " ms";
}

TEST_F(Chaos, FrozenRedisDoesNotStallL1Traffic) {
  auto report = std::make_shared<load_report>();
  spawn_load(*b, report, 0, true);
  spawn_load(*b, report, 1, true);
  spawn_load(*b, report, 2);
  std::this_thread::sleep_for(200ms);
  redis.pause();
  report->redis_down = true;
  auto l1_before = report->l1_hits.load();
  std::this_thread::sleep_for(250ms);
  auto l1_during = report->l1_hits.load() - l1_before;
  redis.resume();
  report->redis_down = false;
  std::this_thread::sleep_for(200ms);
  report->stop = true;
  std::this_thread::sleep_for(100ms);
  // Reads of L1-resident keys go on while Redis is frozen; only the writes wait for it.
  EXPECT_GT(l1_during, 50u);
  EXPECT_EQ(report->unanswered.load(), 0u);
  EXPECT_EQ(report->errors.load(), 0u);
}

// The outage scenario (tests/support/outage_scenario.hpp): two nodes, 8 threads of get/put
// over 10 000 keys, broadcast_on_write, the audit stream on. After Redis is back, no read
// may lag a write acknowledged on every tier by more than 250 ms, the nodes and Redis must
// agree on every key, and neither node may drop its L1.
void expect_converged(const mtcache::testing::outage_report& r) {
  ASSERT_TRUE(r.error.empty()) << r.error;
  std::printf(
      "reads %llu (checked %llu), writes %llu (full %llu, partial %llu, failed %llu); "
      "stale %llu (worst lag %lld ms), divergent %llu of %llu, flushes %llu, "
      "replays %llu, repairs %llu, backlog messages %llu, resubscribed in %lld ms\n",
      static_cast<unsigned long long>(r.reads), static_cast<unsigned long long>(r.reads_checked),
      static_cast<unsigned long long>(r.writes), static_cast<unsigned long long>(r.full_acks),
      static_cast<unsigned long long>(r.partial_acks),
      static_cast<unsigned long long>(r.failed_writes),
      static_cast<unsigned long long>(r.stale_reads), static_cast<long long>(r.worst_lag_ms),
      static_cast<unsigned long long>(r.divergent_keys),
      static_cast<unsigned long long>(r.compared_keys),
      static_cast<unsigned long long>(r.l1_flushes), static_cast<unsigned long long>(r.replays),
      static_cast<unsigned long long>(r.repairs),
      static_cast<unsigned long long>(r.backlog_messages),
      static_cast<long long>(r.resubscribed_ms));
  EXPECT_GE(r.resubscribed_ms, 0) << "both nodes subscribe again";
  EXPECT_GT(r.reads_checked, 1000u);
  EXPECT_GT(r.partial_acks + r.failed_writes, 0u) << "the outage was felt";
  EXPECT_EQ(r.stale_reads, 0u) << "worst lag " << r.worst_lag_ms << " ms";
  EXPECT_EQ(r.divergent_keys, 0u);
  EXPECT_EQ(r.l1_flushes, 0u);
}

TEST(ChaosOutage, RedisKilledForFiveSecondsUnderLoadConverges) {
  mtcache::testing::redis_server redis;
  ASSERT_TRUE(redis.start()) << redis.error();
  mtcache::testing::outage_options opts;
  auto r = mtcache::testing::run_outage(redis, opts);
  expect_converged(r);
  EXPECT_GT(r.repairs, 0u) << "writes made during the outage reach Redis afterwards";
}

TEST(ChaosOutage, RedisFrozenForThreeSecondsUnderLoadConverges) {
  mtcache::testing::redis_server redis;
  ASSERT_TRUE(redis.start()) << redis.error();
  mtcache::testing::outage_options opts;
  opts.kind = mtcache::testing::outage_options::fault::freeze;
  opts.outage = 3s;
  expect_converged(mtcache::testing::run_outage(redis, opts));
}

} // namespace

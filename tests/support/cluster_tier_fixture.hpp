#pragma once

// A batch tier on a Redis Cluster of its own (3 primaries, 3 replicas), per test, for the
// cluster tier tests.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <caf/scoped_actor.hpp>

#include "mtcache/actors/redis_tier.hpp"
#include "support/actor_system_fixture.hpp"
#include "support/redis_cluster.hpp"

namespace mtcache::testing {

using namespace std::chrono_literals;

/// prefix0, prefix1, ... prefix<count-1>.
inline std::vector<std::string> numbered(const std::string& prefix, int count) {
  std::vector<std::string> keys;
  for (int i = 0; i < count; ++i)
    keys.push_back(prefix + std::to_string(i));
  return keys;
}

/// The tier under test, `tier`, is spawned by `start()` on `cluster`. The helpers are public
/// so that load generators of a test can use them.
class RedisClusterTier : public actor_system_fixture {
public:
  void SetUp() override { ASSERT_TRUE(cluster.start()) << cluster.error(); }

  void TearDown() override {
    if (tier)
      caf::anon_send_exit(tier, caf::exit_reason::user_shutdown);
  }

  void start() {
    redis_tier_config cfg;
    cfg.url = cluster.url();
    cfg.request_timeout = 1s;
    cfg.backoff_initial = 20ms;
    cfg.backoff_max = 200ms;
    auto spawned = spawn_redis_tier(sys, cfg, 2);
    ASSERT_TRUE(spawned) << sys.render(spawned.error());
    tier = *spawned;
    ASSERT_TRUE(eventually([&] { return put("warmup", "x"); }, 10s)) << "no write succeeded";
  }

  template <class R, class... Ts>
  caf::expected<R> ask(Ts... xs) {
    caf::expected<R> out{caf::error{}};
    self->request(tier, 10s, xs...)
        .receive([&](R& x) { out = std::move(x); }, [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  /// Success, or the error of the set (shown by ASSERT_TRUE).
  ::testing::AssertionResult put(const std::string& key, const std::string& value,
                                 caf::timespan ttl = caf::timespan{0}) {
    auto res = ask<ok_atom>(put_atom::value, key, bytes{value}, ttl);
    if (res)
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "set " << key << ": " << sys.render(res.error());
  }

  /// Success, or how many entries of a batch answer failed and the first of them.
  template <class Entries, class Failed>
  ::testing::AssertionResult none_failed(const std::vector<std::string>& keys,
                                         const Entries& entries, Failed failed) {
    size_t count = 0;
    std::string first;
    for (size_t i = 0; i < entries.size(); ++i)
      if (auto why = failed(entries[i]); !why.empty() && count++ == 0)
        first = keys[i] + ": " + why;
    if (count == 0)
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << count << " of " << entries.size() << " failed, the first " << first;
  }

  std::string get(const std::string& key) {
    auto res = ask<lookup>(get_atom::value, key);
    if (!res)
      return "error: " + sys.render(res.error());
    return res->found ? res->value.str() : "(miss)";
  }

  /// Begins moving the slot of `key` from its owner to another primary and moves `moved` of
  /// its keys: the slot stays half-migrated (ASK) until `finish()`. Null after a failure.
  std::unique_ptr<redis_cluster::slot_migration> half_migrate(const std::string& key,
                                                              size_t moved) {
    auto slot = cluster.slot_of(key);
    auto from = *cluster.node_of_slot(slot);
    auto primaries = cluster.primaries();
    auto to = from == primaries[0] ? primaries[1] : primaries[0];
    auto migration = std::make_unique<redis_cluster::slot_migration>(cluster, slot, from, to);
    if (migration->begin() && migration->move_keys(moved))
      return migration;
    ADD_FAILURE() << migration->error();
    return nullptr;
  }

  std::string render(const caf::error& err) { return sys.render(err); }

  // What the cluster itself holds under `key`, asked of the node that serves it.
  std::string stored(const std::string& key) { return cluster.command_for_key(key, {"GET", key}); }

  redis_cluster cluster;
  caf::scoped_actor self{sys};
  batch_tier_actor tier;
};

} // namespace mtcache::testing

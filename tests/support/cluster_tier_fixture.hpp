#pragma once

// A batch tier on a Redis Cluster of its own (3 primaries, 3 replicas), per test, for the
// cluster tier tests.

#include <chrono>
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

  bool put(const std::string& key, const std::string& value) {
    return static_cast<bool>(ask<ok_atom>(put_atom::value, key, bytes{value}, caf::timespan{0}));
  }

  std::string get(const std::string& key) {
    auto res = ask<lookup>(get_atom::value, key);
    if (!res)
      return "error: " + sys.render(res.error());
    return res->found ? res->value.str() : "(miss)";
  }

  std::string render(const caf::error& err) { return sys.render(err); }

  // What the cluster itself holds under `key`, asked of the node that serves it.
  std::string stored(const std::string& key) { return cluster.command_for_key(key, {"GET", key}); }

  redis_cluster cluster;
  caf::scoped_actor self{sys};
  batch_tier_actor tier;
};

} // namespace mtcache::testing

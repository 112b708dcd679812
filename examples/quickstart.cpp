// A tour of mtcache: spawn the default cache (L1 in memory + L2 Redis at REDIS_URL), write a
// value, read it back from L1, let a second cache instance (as another process would have)
// find it in Redis and promote it into its own L1, and print the counters.
#include <cstdio>
#include <optional>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include "mtcache/runtime/blocking_client.hpp"
#include "mtcache/runtime/message_types.hpp"
#include "mtcache/runtime/scheduler_tuning.hpp"
#include "mtcache/runtime/spawn_cache.hpp"

using namespace mtcache;
using namespace std::chrono_literals;

namespace {

bool redis_reachable(blocking_cache& cache) {
  for (int i = 0; i < 40; ++i) {
    auto health = cache.health();
    if (health && health->status == health_status::healthy)
      return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

void print_lookup(const char* what, const caf::expected<lookup>& res) {
  if (!res)
    std::printf("%-34s error\n", what);
  else if (!res->found)
    std::printf("%-34s not found\n", what);
  else
    std::printf("%-34s '%s' from L%u, %lld ms left\n", what, res->value.str().c_str(), res->level,
                static_cast<long long>(res->ttl_ms));
}

} // namespace

int main() {
  caf::actor_system_config cfg;
  add_message_types(cfg);
  apply_recommended_scheduler(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};

  auto config = cache_config::defaults();
  auto url = resolve_redis_url(config.tiers[1].redis.url);
  auto spawned = spawn_cache(sys, config);
  if (!spawned) {
    std::printf("cannot start the cache: %s\n", sys.render(spawned.error()).c_str());
    return 1;
  }
  auto node_a = std::make_optional<blocking_cache>(sys, *spawned);
  bool with_redis = redis_reachable(*node_a);
  if (!with_redis) {
    std::printf("Redis at %s is not reachable: falling back to an L1-only cache\n",
                url ? to_string(*url).c_str() : "?");
    stop_cache(node_a->handle());
    node_a.emplace(sys, *spawn_cache(sys, cache_config::embedded()));
  } else {
    std::printf("cache: L1 memory (5000 entries, W-TinyLFU) + L2 Redis at %s\n",
                to_string(*url).c_str());
  }

  auto ack = node_a->set("user:42", bytes{R"({"name":"Ada"})"}, strategy::short_term());
  if (!ack) {
    std::printf("set failed: %s\n", sys.render(ack.error()).c_str());
    return 1;
  }
  std::printf("%-34s written to %u tier(s)\n", "set user:42 (short_term, 5 min)", ack->written);
  print_lookup("get user:42", node_a->get("user:42"));
  print_lookup("get user:7", node_a->get("user:7"));

  if (with_redis) {
    // A second cache shares the Redis tier but has an empty L1 of its own. L2 promotes a hit
    // with probability 1/10 (as_l2), so reads go to Redis until a draw passes.
    auto spawned_b = spawn_cache(sys, cache_config::defaults());
    blocking_cache node_b{sys, *spawned_b};
    int reads = 0;
    caf::expected<lookup> res{caf::error{}};
    do {
      res = node_b.get("user:42");
      ++reads;
    } while (res && res->found && res->level == 2 && reads < 200);
    print_lookup("second instance, get user:42", res);
    std::printf("%-34s promoted into its L1 after %d read(s) from L2\n", "", reads - 1);
    stop_cache(node_b.handle());
  }

  if (auto stats = node_a->stats()) {
    std::printf("stats: %llu requests, L1 hits %llu, misses %llu, sets %llu\n",
                static_cast<unsigned long long>(stats->requests),
                static_cast<unsigned long long>(stats->tier_hits[0]),
                static_cast<unsigned long long>(stats->misses),
                static_cast<unsigned long long>(stats->sets));
  }
  stop_cache(node_a->handle());
  return 0;
}

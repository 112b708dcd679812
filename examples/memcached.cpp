// The quickstart with memcached in place of Redis: L1 in memory + L2 memcached at
// MEMCACHED_URL (memcache://host:port, several servers separated by commas, placed by
// ketama). Writes a value, reads it back from L1, lets a second cache instance find it in
// memcached and promote it into its own L1 with the TTL memcached says is left, and shows
// what memcached cannot do (remove keys by pattern) and what the cache does about it.
#include <cstdio>
#include <optional>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include "mtcache/codec/memcached_url.hpp"
#include "mtcache/runtime/blocking_client.hpp"
#include "mtcache/runtime/message_types.hpp"
#include "mtcache/runtime/scheduler_tuning.hpp"
#include "mtcache/runtime/spawn_cache.hpp"

using namespace mtcache;
using namespace std::chrono_literals;

namespace {

cache_config memory_and_memcached() {
  cache_config cfg;
  cfg.add_memory_tier(tier_config::as_l1());
  // Promote every L2 hit, so that the second instance below shows it on its second read.
  cfg.add_memcached_tier(tier_config::as_l2().with_promotion_frequency(1));
  return cfg;
}

bool healthy(blocking_cache& cache) {
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
  cfg.load<caf::io::middleman>(); // the memcached tier runs on the middleman, as Redis does
  caf::actor_system sys{cfg};

  auto url = resolve_memcached_url("");
  if (!url) {
    std::printf("bad MEMCACHED_URL: %s\n", sys.render(url.error()).c_str());
    return 1;
  }
  auto spawned = spawn_cache(sys, memory_and_memcached());
  if (!spawned) {
    std::printf("cannot start the cache: %s\n", sys.render(spawned.error()).c_str());
    return 1;
  }
  blocking_cache node_a{sys, *spawned};
  if (!healthy(node_a)) {
    std::printf("memcached at %s is not reachable (start one: memcached -l 127.0.0.1 -p 11211)\n",
                to_string(*url).c_str());
    stop_cache(node_a.handle());
    return 1;
  }
  std::printf("cache: L1 memory (5000 entries, W-TinyLFU) + L2 memcached at %s\n",
              to_string(*url).c_str());

  auto ack = node_a.set("user:42", bytes{R"({"name":"Ada"})"}, strategy::short_term());
  if (!ack) {
    std::printf("set failed: %s\n", sys.render(ack.error()).c_str());
    return 1;
  }
  std::printf("%-34s written to %u tier(s)\n", "set user:42 (short_term, 5 min)", ack->written);
  print_lookup("get user:42", node_a.get("user:42"));

  // A second cache shares memcached but has an empty L1 of its own: its first read comes
  // from memcached with the remaining TTL (whole seconds), which promotion keeps.
  auto spawned_b = spawn_cache(sys, memory_and_memcached());
  blocking_cache node_b{sys, *spawned_b};
  healthy(node_b);
  print_lookup("second instance, get user:42", node_b.get("user:42"));
  print_lookup("second instance, again", node_b.get("user:42"));
  stop_cache(node_b.handle());

  // Keys memcached cannot hold as they are (spaces, binary, over 250 bytes) work all the same.
  node_a.set("key with spaces and \xc3\xa9", bytes{"odd"});
  print_lookup("get 'key with spaces and \xc3\xa9'", node_a.get("key with spaces and \xc3\xa9"));

  // memcached cannot list keys: a pattern removal reaches L1 only, and the memcached tier
  // is reported as skipped (tier_errors); with memcached alone it fails with not_supported.
  auto removed = node_a.remove_matching("user:*");
  if (removed)
    std::printf("%-34s %llu removed (L1 only)\n", "remove_matching user:*",
                static_cast<unsigned long long>(*removed));
  else
    std::printf("%-34s %s\n", "remove_matching user:*", sys.render(removed.error()).c_str());
  node_a.remove("user:42");

  if (auto stats = node_a.stats())
    std::printf("stats: %llu requests, L1 hits %llu, L2 hits %llu, tier errors %llu\n",
                static_cast<unsigned long long>(stats->requests),
                static_cast<unsigned long long>(stats->tier_hits[0]),
                static_cast<unsigned long long>(stats->tier_hits[1]),
                static_cast<unsigned long long>(stats->tier_errors));
  stop_cache(node_a.handle());
  return 0;
}

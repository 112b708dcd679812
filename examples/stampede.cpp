// Stampede protection: 200 threads ask for the same cold key at once. The value comes from a
// slow "database" (100 ms per query); the cache runs one query and hands its result to every
// caller. Uses L2 Redis at REDIS_URL when reachable; without it the cache runs on L1.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include "mtcache/actors/callable_loader.hpp"
#include "mtcache/runtime/blocking_client.hpp"
#include "mtcache/runtime/message_types.hpp"
#include "mtcache/runtime/scheduler_tuning.hpp"
#include "mtcache/runtime/spawn_cache.hpp"

using namespace mtcache;
using namespace std::chrono_literals;

int main() {
  caf::actor_system_config cfg;
  add_message_types(cfg);
  apply_recommended_scheduler(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  auto cache = spawn_cache(sys, cache_config::defaults());
  if (!cache) {
    std::printf("cannot start the cache: %s\n", sys.render(cache.error()).c_str());
    return 1;
  }
  blocking_cache client{sys, *cache};

  std::atomic<int> queries{0};
  // A blocking function is fine: it runs on the loader's own threads, not the scheduler's.
  auto database = spawn_callable_loader(sys, [&](const std::string& key) -> caf::expected<bytes> {
    ++queries;
    std::this_thread::sleep_for(100ms);
    return bytes{"report for " + key};
  });

  constexpr int callers = 200;
  std::atomic<int> answered{0};
  auto begin = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < callers; ++i)
    threads.emplace_back([&] {
      auto res = client.get_or_compute("report:2026-11", {strategy::medium_term()}, database);
      if (res && res->found)
        ++answered;
    });
  for (auto& t : threads)
    t.join();
  auto took = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin);
  std::printf("%d callers, %d answered, %d database query, %.0f ms in all\n", callers,
              answered.load(), queries.load(), took.count());

  auto again = client.get_or_compute("report:2026-11", {}, database);
  std::printf("a later call: '%s' from L%u, still %d query\n", again->value.str().c_str(),
              again->level, queries.load());
  stop_cache(*cache);
  return 0;
}

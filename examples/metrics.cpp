// Prometheus metrics: an in-memory cache named "example" under light traffic (sets, gets,
// get_or_compute with a loader that sometimes fails), its counters served on
// http://127.0.0.1:PORT/metrics until SIGINT or SIGTERM. PORT is the first argument (0 picks
// a free one); the first line printed names the URL.
//
//   build/examples/metrics 9464 &  curl -s localhost:9464/metrics | grep mtcache_gets_total
#include <pthread.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include "mtcache/actors/callable_loader.hpp"
#include "mtcache/messages/error.hpp"
#include "mtcache/runtime/blocking_client.hpp"
#include "mtcache/runtime/message_types.hpp"
#include "mtcache/runtime/metrics.hpp"
#include "mtcache/runtime/scheduler_tuning.hpp"
#include "mtcache/runtime/spawn_cache.hpp"

using namespace mtcache;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  char* end = nullptr;
  auto port = std::strtol(argv[1], &end, 10);
  if (*end != '\0' || port < 0 || port > 65535) {
    std::fprintf(stderr, "metrics: not a port: %s\n", argv[1]);
    return 2;
  }
  // Block the signals before the actor system starts its threads, so that they all inherit
  // the mask and only sigwait below sees SIGINT and SIGTERM.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  caf::actor_system_config cfg;
  add_message_types(cfg);
  apply_recommended_scheduler(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};

  auto config = cache_config::embedded();
  config.name = "example";
  config.metrics.enabled = true;
  config.metrics.port = static_cast<uint16_t>(port);
  auto spawned = spawn_cache(sys, config);
  if (!spawned) {
    std::fprintf(stderr, "metrics: cannot start the cache: %s\n",
                 sys.render(spawned.error()).c_str());
    return 1;
  }
  std::printf("serving http://127.0.0.1:%u/metrics\n", metrics_port(sys));
  std::fflush(stdout);

  // One load in ten fails, so that the failure series move too.
  auto loader = spawn_callable_loader(sys, [](const std::string& key) -> caf::expected<bytes> {
    std::this_thread::sleep_for(std::chrono::milliseconds(1 + key.size() % 5));
    if (key.back() == '7')
      return make_error(errc::loader_failed, "no row for " + key);
    return bytes{"value of " + key};
  });
  std::atomic<bool> running{true};
  std::thread traffic{[&] {
    blocking_cache cache{sys, *spawned, 2s};
    std::minstd_rand rng{7};
    while (running) {
      auto key = "user:" + std::to_string(rng() % 200);
      switch (rng() % 4) {
      case 0:
        cache.set(key, bytes{"v"}, strategy::custom(5s));
        break;
      case 1:
        cache.get_or_compute(key, compute_options{}, loader);
        break;
      default:
        cache.get(key);
      }
      std::this_thread::sleep_for(5ms);
    }
  }};

  int sig = 0;
  sigwait(&stop_signals, &sig);
  running = false;
  traffic.join();
  stop_cache(*spawned);
  return 0;
}

// Stampede protection under load: N concurrent get_or_compute on one cold key with a 50 ms
// loader (loader calls must be 1; waiter p99 should stay near the loader time), then 10 000
// cold keys x 10 waiters (loader calls must be exactly 10 000). The loader is asynchronous
// (answers after a timer), as a non-blocking database client would. L2 is a redis-server
// this binary starts; without one the cache is L1-only. Prints "name value" lines.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "latency_recorder.hpp"
#include "mtcache/runtime/message_types.hpp"
#include "mtcache/runtime/scheduler_tuning.hpp"
#include "mtcache/runtime/spawn_cache.hpp"
#include "support/redis_server.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

using timed_loader_actor = loader_actor::extend<caf::reacts_to<done_atom, uint64_t>>;

struct timed_loader_state {
  std::unordered_map<uint64_t, std::pair<std::string, caf::typed_response_promise<bytes>>> open;
  uint64_t next = 0;
};

// When the first load of a run started, as steady_clock ticks (0: none yet).
std::atomic<clock_type::rep> first_load{0};

// Answers every load after `delay`, counting calls.
timed_loader_actor::behavior_type
timed_loader(timed_loader_actor::stateful_pointer<timed_loader_state> self,
             std::chrono::milliseconds delay, std::shared_ptr<std::atomic<uint64_t>> calls) {
  return {
      [=](load_atom, const std::string& key) -> caf::result<bytes> {
        ++*calls;
        clock_type::rep none = 0;
        first_load.compare_exchange_strong(none, clock_type::now().time_since_epoch().count());
        auto id = ++self->state.next;
        auto rp = self->make_response_promise<bytes>();
        self->state.open.emplace(id, std::make_pair(key, rp));
        self->delayed_send(self, delay, done_atom::value, id);
        return rp;
      },
      [=](done_atom, uint64_t id) {
        auto i = self->state.open.find(id);
        i->second.second.deliver(bytes{"value-of-" + i->second.first});
        self->state.open.erase(i);
      },
  };
}

struct run_result {
  bench::latency_recorder latency;
  size_t errors = 0;
  clock_type::duration total{};
  // From the first request to the first load, and to the last request sent.
  clock_type::duration first_load{};
  clock_type::duration all_sent{};
};

// Sends one get_or_compute per key in `keys` at once and times each answer. The requests
// come from many small actors (100 each): CAF 0.17 keeps an actor's pending responses in a
// flat map searched linearly, so one actor with 100 000 outstanding requests would measure
// itself rather than the cache.
run_result fire(caf::actor_system& sys, const cache_actor& cache, const loader_actor& loader,
                const std::vector<std::string>& keys) {
  constexpr size_t per_actor = 100;
  auto result = std::make_shared<run_result>();
  auto left = std::make_shared<std::atomic<size_t>>(keys.size());
  auto errors = std::make_shared<std::atomic<size_t>>(0);
  std::mutex samples_mtx;
  caf::scoped_actor waiter{sys};
  auto done_to = caf::actor_cast<caf::actor>(waiter);
  auto last_sent = std::make_shared<std::atomic<clock_type::rep>>(0);
  first_load = 0;
  auto begin = clock_type::now();
  for (size_t first = 0; first < keys.size(); first += per_actor) {
    std::vector<std::string> chunk(keys.begin() + first,
                                   keys.begin() + std::min(keys.size(), first + per_actor));
    sys.spawn([=, &samples_mtx](caf::event_based_actor* self) {
      auto local = std::make_shared<bench::latency_recorder>();
      auto n = chunk.size();
      auto pending = std::make_shared<size_t>(n);
      // Captures the count, not the chunk: each answer handler holds a copy of `finish`.
      auto finish = [=, &samples_mtx] {
        if (--*pending > 0)
          return;
        {
          std::lock_guard<std::mutex> guard{samples_mtx};
          result->latency.merge(*local);
        }
        if (left->fetch_sub(n) == n) {
          result->total = clock_type::now() - begin;
          self->send(done_to, done_atom::value);
        }
        self->quit();
      };
      for (auto& key : chunk) {
        auto sent = clock_type::now();
        self->request(cache, 60s, compute_atom::value, key, compute_options{}, loader)
            .then(
                [=](lookup&) {
                  local->record(clock_type::now() - sent);
                  finish();
                },
                [=](caf::error& err) {
                  if (errors->fetch_add(1) == 0)
                    std::fprintf(stderr, "first error: %s\n", self->system().render(err).c_str());
                  finish();
                });
      }
      auto now = clock_type::now().time_since_epoch().count();
      auto seen = last_sent->load();
      while (seen < now && !last_sent->compare_exchange_weak(seen, now)) {
      }
    });
  }
  waiter->receive([](done_atom) {});
  result->errors = errors->load();
  result->first_load = clock_type::duration{first_load.load()} - begin.time_since_epoch();
  result->all_sent = clock_type::duration{last_sent->load()} - begin.time_since_epoch();
  return std::move(*result);
}

} // namespace

int main(int argc, char** argv) {
  size_t waiters = argc > 1 ? std::stoul(argv[1]) : 1000;
  int cold_keys = argc > 2 ? std::stoi(argv[2]) : 10000;
  caf::actor_system_config cfg;
  add_message_types(cfg);
  apply_recommended_scheduler(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  // L2 on REDIS_URL if set, else on a redis-server of our own; L1 only without one.
  mtcache::testing::redis_server redis;
  cache_config config = cache_config::embedded();
  std::string url;
  if (auto* env = std::getenv("REDIS_URL"))
    url = env;
  else if (redis.start())
    url = redis.url();
  else
    std::fprintf(stderr, "no redis-server (%s): L1 only\n", redis.error().c_str());
  if (!url.empty()) {
    redis_tier_config l2;
    l2.url = url;
    config.add_redis_tier(tier_config::as_l2(), l2);
  }
  config.options.load_timeout = 30s;
  auto cache = *spawn_cache(sys, config);
  auto calls = std::make_shared<std::atomic<uint64_t>>(0);
  auto loader = sys.spawn(timed_loader, 50ms, calls);
  // Let the Redis tier connect before timing anything.
  caf::scoped_actor self{sys};
  for (int i = 0; i < 100; ++i) {
    bool healthy = false;
    self->request(cache, 5s, health_atom::value)
        .receive([&](health_report& h) { healthy = h.status == health_status::healthy; },
                 [](caf::error&) {});
    if (healthy)
      break;
    std::this_thread::sleep_for(20ms);
  }

  auto one = fire(sys, cache, loader, std::vector<std::string>(waiters, "cold-key"));
  std::printf("stampede_waiters %zu\n", waiters);
  std::printf("stampede_loader_calls %llu\n", static_cast<unsigned long long>(calls->load()));
  std::printf("stampede_errors %zu\n", one.errors);
  std::printf("stampede_p50_ms %.2f\n", one.latency.percentile_us(50) / 1000);
  std::printf("stampede_p90_ms %.2f\n", one.latency.percentile_us(90) / 1000);
  std::printf("stampede_p99_ms %.2f\n", one.latency.percentile_us(99) / 1000);
  std::printf("stampede_p999_ms %.2f\n", one.latency.percentile_us(99.9) / 1000);
  // Where the time beyond the loader's goes: before the load starts, or after it answered.
  std::printf("stampede_all_sent_ms %.2f\n",
              std::chrono::duration<double, std::milli>(one.all_sent).count());
  std::printf("stampede_load_started_ms %.2f\n",
              std::chrono::duration<double, std::milli>(one.first_load).count());

  calls->store(0);
  std::vector<std::string> keys;
  for (int round = 0; round < 10; ++round)
    for (int k = 0; k < cold_keys; ++k)
      keys.push_back("cold-" + std::to_string(k));
  auto many = fire(sys, cache, loader, keys);
  std::printf("stampede_10k_loader_calls %llu\n", static_cast<unsigned long long>(calls->load()));
  std::printf("stampede_10k_errors %zu\n", many.errors);
  std::printf("stampede_10k_total_ms %.1f\n",
              std::chrono::duration<double, std::milli>(many.total).count());
  std::printf("stampede_10k_p99_ms %.2f\n", many.latency.percentile_us(99) / 1000);

  stop_cache(cache);
  caf::anon_send_exit(loader, caf::exit_reason::user_shutdown);
  return 0;
}

// Eager refresh under a steady load: one hot key read with get_or_compute at 10 000 calls/s
// for 20 s from a plain thread (the blocking client), TTL 2 s, refreshed past 80% of it, by
// an asynchronous loader that answers after 50 ms (as a non-blocking database client would).
// A caller is "blocked" if a load answered it (level 0: it missed the tiers and waited for
// the key's flight); calls that took at least the loader's 50 ms are counted beside it, as
// a check (on a shared machine, scheduler stalls alone make a few). Loads per TTL count the loads
// against the lifetimes of the values written in those 20 s: each value is due for refresh at
// 0.8 of its TTL and replaced one load (50 ms) later, so exactly one refresh per value gives
// 20 s / (0.8 x 2 s + 50 ms) loads and the figure 1.00; a duplicate refresh raises it, a value
// that expired before anyone refreshed it (callers then wait) lowers it. The loads per 2 s of
// wall clock are printed beside it. Memory L1 only: the refresh path does not depend on the
// tiers below. Prints "name value" lines for bench/run_all.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "mtcache/runtime/blocking_client.hpp"
#include "mtcache/runtime/message_types.hpp"
#include "mtcache/runtime/scheduler_tuning.hpp"
#include "mtcache/runtime/spawn_cache.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto loader_delay = 50ms;
constexpr auto ttl = 2s;
constexpr double share = 0.8;
constexpr auto window = 20s;
constexpr int rate = 10'000;

using timed_loader_actor = loader_actor::extend<caf::reacts_to<done_atom, uint64_t>>;

struct timed_loader_state {
  std::unordered_map<uint64_t, caf::typed_response_promise<bytes>> open;
  uint64_t next = 0;
};

// Answers every load after `loader_delay` without blocking a thread, counting calls.
timed_loader_actor::behavior_type
timed_loader(timed_loader_actor::stateful_pointer<timed_loader_state> self,
             std::shared_ptr<std::atomic<uint64_t>> calls) {
  return {
      [=](load_atom, const std::string&) -> caf::result<bytes> {
        ++*calls;
        auto id = ++self->state.next;
        auto rp = self->make_response_promise<bytes>();
        self->state.open.emplace(id, rp);
        self->delayed_send(self, loader_delay, done_atom::value, id);
        return rp;
      },
      [=](done_atom, uint64_t id) {
        auto i = self->state.open.find(id);
        i->second.deliver(bytes{std::string(64, 'v')});
        self->state.open.erase(i);
      },
  };
}

} // namespace

int main() {
  caf::actor_system_config cfg;
  add_message_types(cfg);
  apply_recommended_scheduler(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  auto cache = spawn_cache(sys, cache_config::embedded());
  if (!cache) {
    std::fprintf(stderr, "refresh_bench: %s\n", sys.render(cache.error()).c_str());
    return 1;
  }
  auto calls = std::make_shared<std::atomic<uint64_t>>(0);
  auto loader = caf::actor_cast<loader_actor>(sys.spawn(timed_loader, calls));
  compute_options opts{strategy::custom(ttl)};
  opts.eager_refresh = share;
  {
    blocking_cache client{sys, *cache, 10s};
    // The cold load is not part of the window.
    if (!client.get_or_compute("hot", opts, loader)) {
      std::fprintf(stderr, "refresh_bench: the first load failed\n");
      return 1;
    }
    auto loads_before = calls->load();
    uint64_t gets = 0;
    uint64_t errors = 0;
    uint64_t blocked = 0;
    uint64_t slow = 0;
    clock_type::duration worst{};
    auto begin = clock_type::now();
    auto end = begin + window;
    for (auto next = begin; next < end; next += std::chrono::microseconds{1'000'000 / rate}) {
      std::this_thread::sleep_until(next);
      auto sent = clock_type::now();
      auto res = client.get_or_compute("hot", opts, loader);
      auto took = clock_type::now() - sent;
      ++gets;
      worst = std::max(worst, took);
      if (!res) {
        ++errors;
        continue;
      }
      blocked += !res->found || res->level == 0 ? 1 : 0;
      slow += took >= loader_delay ? 1 : 0;
    }
    auto elapsed = std::chrono::duration<double>(clock_type::now() - begin).count();
    auto loads = calls->load() - loads_before;
    auto ttls =
        std::chrono::duration<double>(window).count() / std::chrono::duration<double>(ttl).count();
    auto stats = client.stats();
    std::printf("eager_refresh_blocked_callers %llu\n", static_cast<unsigned long long>(blocked));
    auto lifetime = std::chrono::duration<double>(ttl).count() * share +
                    std::chrono::duration<double>(loader_delay).count();
    auto lifetimes = std::chrono::duration<double>(window).count() / lifetime;
    std::printf("eager_refresh_loads_per_ttl %.2f\n", static_cast<double>(loads) / lifetimes);
    std::printf("eager_refresh_loads_per_2s %.2f\n", static_cast<double>(loads) / ttls);
    std::printf("eager_refresh_loads %llu\n", static_cast<unsigned long long>(loads));
    std::printf("eager_refresh_started %llu\n",
                static_cast<unsigned long long>(stats ? stats->eager_refreshes : 0));
    std::printf("eager_refresh_slow_calls %llu\n", static_cast<unsigned long long>(slow));
    std::printf("eager_refresh_errors %llu\n", static_cast<unsigned long long>(errors));
    std::printf("eager_refresh_gets %llu\n", static_cast<unsigned long long>(gets));
    std::printf("eager_refresh_gets_per_s %.0f\n", static_cast<double>(gets) / elapsed);
    std::printf("eager_refresh_worst_ms %.2f\n",
                std::chrono::duration<double, std::milli>(worst).count());
  }
  caf::anon_send_exit(loader, caf::exit_reason::user_shutdown);
  stop_cache(*cache);
  return 0;
}

// Throughput of the cache handle against the bare CAF limit, in one run: an echo actor that
// answers the same request with the same reply type, an L1 hit through the coordinator with
// the same load shape (1 to 64 outstanding requests; 1 and 2 scheduler threads), and L2
// get/set (L1 disabled) against a redis-server: REDIS_URL if set, else one this binary
// starts. At the end it prints the ratios and "result <name> <value>" lines for run_all.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include <benchmark/benchmark.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "mtcache/runtime/message_types.hpp"
#include "mtcache/runtime/scheduler_tuning.hpp"
#include "mtcache/runtime/spawn_cache.hpp"
#include "request_driver.hpp"
#include "support/redis_server.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using mtcache::bench::drive;

namespace {

using echo_actor = caf::typed_actor<caf::replies_to<get_atom, std::string>::with<lookup>>;

constexpr size_t batch = 20480; // splits evenly over up to 64 drivers
const std::string value(64, 'v');

echo_actor::behavior_type echo(echo_actor::pointer) {
  lookup reply{true, bytes{value}, 60000, 1, false};
  return {[reply](get_atom, const std::string&) { return reply; }};
}

struct bench_env {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  mtcache::testing::redis_server redis;
  echo_actor echo_handle;
  std::optional<cache_actor> l1_cache;
  std::optional<cache_actor> l2_cache;

  explicit bench_env(int threads) {
    add_message_types(cfg);
    apply_recommended_scheduler(cfg);
    cfg.set("scheduler.max-threads", threads);
    cfg.load<caf::io::middleman>();
    sys = std::make_unique<caf::actor_system>(cfg);
    echo_handle = sys->spawn(echo);
    l1_cache = *spawn_cache(*sys, cache_config::embedded());
    caf::scoped_actor self{*sys};
    self->request(*l1_cache, 5s, put_atom::value, std::string{"hot"}, bytes{value},
                  strategy::long_term())
        .receive([](write_ack&) {}, [](caf::error&) {});
  }

  bool start_redis() {
    if (l2_cache)
      return true;
    std::string url;
    if (auto* env = std::getenv("REDIS_URL")) {
      url = env;
    } else if (redis.start()) {
      url = redis.url();
    } else {
      std::fprintf(stderr, "L2 benchmarks skipped: %s\n", redis.error().c_str());
      return false;
    }
    cache_config cfg;
    redis_tier_config r;
    r.url = url;
    cfg.add_redis_tier(tier_config::at_level(2), r);
    // MTCACHE_BENCH_TRACKING=1: the connection tracks its keys (invalidation_config::tracking).
    bool tracking = std::getenv("MTCACHE_BENCH_TRACKING") != nullptr;
    cfg.invalidation.redis = tracking;
    cfg.invalidation.tracking = tracking;
    l2_cache = *spawn_cache(*sys, cfg);
    caf::scoped_actor self{*sys};
    if (tracking && !mtcache::testing::eventually(
                        [&] {
                          bool on = false;
                          self->request(*l2_cache, 5s, stats_atom::value, invalidate_atom::value)
                              .receive([&](bridge_stats& s) { on = s.tracking; },
                                       [](caf::error&) {});
                          return on;
                        },
                        10s)) {
      std::fprintf(stderr, "L2 benchmarks skipped: tracking did not come on\n");
      return false;
    }
    for (int i = 0; i < 100; ++i) {
      bool ok = false;
      self->request(*l2_cache, 5s, put_atom::value, std::string{"l2hot"}, bytes{value},
                    strategy::long_term())
          .receive([&](write_ack&) { ok = true; }, [](caf::error&) {});
      if (ok)
        return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  ~bench_env() {
    caf::anon_send_exit(echo_handle, caf::exit_reason::user_shutdown);
    if (l1_cache)
      stop_cache(*l1_cache);
    if (l2_cache)
      stop_cache(*l2_cache);
    echo_handle = nullptr;
    l1_cache.reset();
    l2_cache.reset();
    sys.reset();
  }
};

// Torn down at the end of main, before static destructors run.
std::map<int, std::unique_ptr<bench_env>> envs;

// One actor system at a time: the idle threads of another one halve what this one measures.
bench_env& env(int threads) {
  for (auto i = envs.begin(); i != envs.end();)
    i = i->first == threads ? std::next(i) : envs.erase(i);
  auto& e = envs[threads];
  if (!e)
    e = std::make_unique<bench_env>(threads);
  return *e;
}

void BM_echo(benchmark::State& state) {
  auto& e = env(static_cast<int>(state.range(1)));
  for (auto _ : state)
    drive<lookup>(*e.sys, e.echo_handle, batch, state.range(0), nullptr, caf::duration{10s},
                  get_atom::value, std::string{"hot"});
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
}

void BM_l1_get(benchmark::State& state) {
  auto& e = env(static_cast<int>(state.range(1)));
  for (auto _ : state)
    drive<lookup>(*e.sys, *e.l1_cache, batch, state.range(0), nullptr, caf::duration{10s},
                  get_atom::value, std::string{"hot"});
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
}

// Latency percentiles of single requests, exact (from every sample), as counters in µs.
constexpr std::pair<const char*, double> percentiles[] = {
    {"p50_us", 50}, {"p90_us", 90}, {"p99_us", 99}, {"p999_us", 99.9}};

// Arguments: outstanding requests; 1 for requests with a 10 s CAF timeout, 0 for requests
// without one (the cache answers every request within its own deadlines).
template <class Reply, class... Ts>
void run_l2(benchmark::State& state, Ts... xs) {
  auto& e = env(2);
  if (!e.start_redis()) {
    state.SkipWithError("no redis-server");
    return;
  }
  bench::latency_recorder latency;
  for (auto _ : state)
    drive<Reply>(*e.sys, *e.l2_cache, batch, state.range(0), &latency,
                 state.range(1) ? caf::duration{10s} : caf::duration{caf::infinite}, xs...);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
  for (auto [name, p] : percentiles)
    state.counters[name] = latency.percentile_us(p);
}

void BM_l2_get(benchmark::State& state) {
  run_l2<lookup>(state, get_atom::value, std::string{"l2hot"});
}

void BM_l2_set(benchmark::State& state) {
  run_l2<write_ack>(state, put_atom::value, std::string{"l2set"}, bytes{value},
                    strategy::short_term());
}

// Arguments: outstanding requests, scheduler threads. Each L1 run right after the echo run
// it is compared with, so that drift on a noisy machine hits both alike.
void register_l1_pairs() {
  for (int64_t threads : {1, 2})
    for (int64_t window : {1, 4, 16, 64}) {
      benchmark::RegisterBenchmark("BM_echo", BM_echo)
          ->Args({window, threads})
          ->UseRealTime()
          ->MinTime(0.5);
      benchmark::RegisterBenchmark("BM_l1_get", BM_l1_get)
          ->Args({window, threads})
          ->UseRealTime()
          ->MinTime(0.5);
    }
}

// 2 scheduler threads; outstanding requests without a caller timer, and the two largest
// loads again with one. bench/run_all runs the untimed 256 and 1024 cases again in rounds,
// each right after a redis-benchmark run, so that a noisy moment hits both sides of a ratio.
void l2_loads(benchmark::internal::Benchmark* b) {
  b->ArgsProduct({{1, 16, 256, 1024}, {0}})->Args({256, 1})->Args({1024, 1});
  b->UseRealTime()->MinTime(1.0);
}
BENCHMARK(BM_l2_get)->Apply(l2_loads);
BENCHMARK(BM_l2_set)->Apply(l2_loads);

// Remembers items/s and counters per benchmark so main can print ratios and results; of
// repeated runs, those of the fastest.
class result_reporter : public benchmark::ConsoleReporter {
public:
  // Plain text: given its own display reporter, Google Benchmark ignores --benchmark_color.
  result_reporter() : ConsoleReporter(OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (auto& run : runs) {
      if (run.run_type != Run::RT_Iteration)
        continue;
      auto prefix = run.run_name.function_name + "/" + run.run_name.args + "/";
      auto rate = run.counters.find("items_per_second");
      if (rate == run.counters.end())
        continue;
      auto& best = values[prefix + "items_per_second"];
      if (rate->second.value <= best)
        continue;
      for (auto& [name, counter] : run.counters)
        values[prefix + name] = counter.value;
    }
  }
  std::map<std::string, double> values;
};

} // namespace

int main(int argc, char** argv) {
  register_l1_pairs();
  benchmark::Initialize(&argc, argv);
  result_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  auto& v = reporter.values;
  std::printf("\nL1-hit get through the cache vs bare CAF echo (target >= 0.5):\n");
  for (auto w : {1, 4, 16, 64})
    for (auto t : {1, 2}) {
      auto args = std::to_string(w) + "/" + std::to_string(t);
      auto echo = v["BM_echo/" + args + "/items_per_second"];
      auto get = v["BM_l1_get/" + args + "/items_per_second"];
      if (echo > 0 && get > 0) {
        std::printf("  %2d outstanding, %d thread(s): %9.0f vs %9.0f req/s, ratio %.2f\n", w, t,
                    get, echo, get / echo);
        std::printf("result l1_get_w%d_t%d %.0f\nresult echo_w%d_t%d %.0f\n", w, t, get, w, t,
                    echo);
      }
    }
  for (auto op : {"get", "set"}) {
    for (auto o : {256, 1024}) {
      auto timed = std::string{"BM_l2_"} + op + "/" + std::to_string(o) + "/1/";
      std::printf("result l2_%s_o%d_timed %.0f\n", op, o, v[timed + "items_per_second"]);
    }
    for (auto o : {1, 16, 256, 1024}) {
      auto key = std::string{"BM_l2_"} + op + "/" + std::to_string(o) + "/0/";
      std::printf("result l2_%s_o%d %.0f\n", op, o, v[key + "items_per_second"]);
      for (auto [name, p] : percentiles)
        std::printf("result l2_%s_o%d_%s %.1f\n", op, o, name, v[key + name]);
    }
  }
  envs.clear();
  return 0;
}

// Throughput of the cache handle against the bare CAF limit, in one run: an echo actor that
// answers the same request with the same reply type, an L1 hit through the coordinator with
// the same load shape (1 and 16 outstanding requests), and L2 get/set against a local
// redis-server this binary starts. Prints the ratio L1-get / echo at the end.
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <benchmark/benchmark.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "runtime/message_types.hpp"
#include "runtime/scheduler_tuning.hpp"
#include "runtime/spawn_cache.hpp"
#include "tests/support/redis_server.hpp"

using namespace mtcache;
using namespace std::chrono_literals;

namespace {

using echo_actor = caf::typed_actor<caf::replies_to<get_atom, std::string>::with<lookup>>;

constexpr size_t batch = 20000;
const std::string value(64, 'v');

echo_actor::behavior_type echo(echo_actor::pointer) {
  lookup reply{true, bytes{value}, 60000, 1, false};
  return {[reply](get_atom, const std::string&) { return reply; }};
}

struct progress {
  size_t sent = 0;
  size_t done = 0;
};

// Keeps `window` requests outstanding until `total` are answered, then tells `starter`.
template <class Reply, class Handle, class... Ts>
void drive(caf::actor_system& sys, Handle target, size_t total, size_t window, Ts... xs) {
  caf::scoped_actor starter{sys};
  auto starter_addr = caf::actor_cast<caf::actor>(starter);
  sys.spawn([=](caf::event_based_actor* self) {
    auto p = std::make_shared<progress>();
    auto send_one = std::make_shared<std::function<void()>>();
    *send_one = [=] {
      ++p->sent;
      self->request(target, 10s, xs...)
          .then(
              [=](Reply&) {
                if (++p->done == total) {
                  self->send(starter_addr, done_atom::value);
                  self->quit();
                } else if (p->sent < total) {
                  (*send_one)();
                }
              },
              [=](caf::error& err) {
                std::fprintf(stderr, "request failed: %s\n", self->system().render(err).c_str());
                self->send(starter_addr, done_atom::value);
                self->quit();
              });
    };
    for (size_t i = 0; i < window; ++i)
      (*send_one)();
    self->attach_functor([send_one] { *send_one = nullptr; });
  });
  starter->receive([](done_atom) {});
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
    if (!redis.start()) {
      std::fprintf(stderr, "L2 benchmarks skipped: %s\n", redis.error().c_str());
      return false;
    }
    cache_config cfg;
    redis_tier_config r;
    r.url = redis.url();
    cfg.add_redis_tier(tier_config::at_level(2), r);
    l2_cache = *spawn_cache(*sys, cfg);
    caf::scoped_actor self{*sys};
    for (int i = 0; i < 50; ++i) {
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

bench_env& env(int threads) {
  auto& e = envs[threads];
  if (!e)
    e = std::make_unique<bench_env>(threads);
  return *e;
}

void BM_echo(benchmark::State& state) {
  auto& e = env(static_cast<int>(state.range(1)));
  for (auto _ : state)
    drive<lookup>(*e.sys, e.echo_handle, batch, state.range(0), get_atom::value,
                  std::string{"hot"});
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
}

void BM_l1_get(benchmark::State& state) {
  auto& e = env(static_cast<int>(state.range(1)));
  for (auto _ : state)
    drive<lookup>(*e.sys, *e.l1_cache, batch, state.range(0), get_atom::value, std::string{"hot"});
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
}

void BM_l2_get(benchmark::State& state) {
  auto& e = env(2);
  if (!e.start_redis()) {
    state.SkipWithError("no redis-server");
    return;
  }
  for (auto _ : state)
    drive<lookup>(*e.sys, *e.l2_cache, batch, state.range(0), get_atom::value,
                  std::string{"l2hot"});
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
}

void BM_l2_set(benchmark::State& state) {
  auto& e = env(2);
  if (!e.start_redis()) {
    state.SkipWithError("no redis-server");
    return;
  }
  for (auto _ : state)
    drive<write_ack>(*e.sys, *e.l2_cache, batch, state.range(0), put_atom::value,
                     std::string{"l2set"}, bytes{value}, strategy::short_term());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
}

// Arguments: outstanding requests, scheduler threads.
BENCHMARK(BM_echo)->ArgsProduct({{1, 16}, {1, 2}})->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_l1_get)->ArgsProduct({{1, 16}, {1, 2}})->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_l2_get)->Args({1})->Args({16})->Args({256})->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_l2_set)->Args({1})->Args({16})->Args({256})->UseRealTime()->MinTime(1.0);

// Remembers items/s per run so main can print the ratios.
class ratio_reporter : public benchmark::ConsoleReporter {
public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (auto& run : runs) {
      auto i = run.counters.find("items_per_second");
      if (i != run.counters.end())
        rates[run.benchmark_name()] = i->second.value;
    }
  }
  std::map<std::string, double> rates;
};

} // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  ratio_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\nL1-hit get through the cache vs bare CAF echo (target >= 0.5):\n");
  for (auto w : {1, 16})
    for (auto t : {1, 2}) {
      auto suffix = "/" + std::to_string(w) + "/" + std::to_string(t) + "/min_time:1.000/real_time";
      auto echo = reporter.rates["BM_echo" + suffix];
      auto get = reporter.rates["BM_l1_get" + suffix];
      if (echo > 0 && get > 0)
        std::printf("  %2d outstanding, %d thread(s): %9.0f vs %9.0f req/s, ratio %.2f\n", w, t,
                    get, echo, get / echo);
    }
  envs.clear();
  return 0;
}

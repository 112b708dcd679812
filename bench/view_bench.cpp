// The L1 read view (runtime/l1_view.hpp, store/read_view.hpp) against its limits, in one run:
//
//   l1_view_get          hits/s of l1_view::get over 2 threads, 64-byte values, zipf keys
//                        (s 0.99 over 10 000 keys, all cached), vs a single-threaded
//                        std::unordered_map::find loop over the same keys
//   l1_view_get_p50_ns   one get on one thread, timer included (the timer's own p50 is printed)
//   l1_get_w16_t2        an L1 hit through the cache handle (16 outstanding, 2 threads), as
//                        cache_bench measures it, so that the speedup comes from one run
//   l1_view_hit_ratio_delta  W-TinyLFU hit ratio at capacity 1000 on a zipf trace (100 000
//                        keys, 1 M requests) read through the view minus the same read through
//                        the store, as the memory tier serves both
//
// It also measures the designs the view was chosen over (the same 2-thread load): shards of
// std::unordered_map behind std::shared_mutex taken shared, and slots of std::shared_ptr read
// with std::atomic_load. Prints "result <name> <value>" lines for bench/run_all.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include "alternative_views.hpp"
#include "bench_system.hpp"
#include "mtcache/runtime/blocking_client.hpp"
#include "mtcache/runtime/l1_view.hpp"
#include "mtcache/runtime/message_types.hpp"
#include "mtcache/runtime/scheduler_tuning.hpp"
#include "mtcache/runtime/spawn_cache.hpp"
#include "mtcache/store/memory_store.hpp"
#include "mtcache/store/read_view.hpp"
#include "request_driver.hpp"

using namespace mtcache;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

constexpr size_t cached_keys = 10000;
constexpr size_t sequence_length = 1 << 20;
constexpr auto run_time = 500ms;
constexpr int rounds = 3;
const std::string value(64, 'v');

// Zipf(s) over n ranks by inverting the CDF: ranks 0..n-1, rank 0 the most frequent.
std::vector<uint32_t> zipf(size_t n, double s, size_t count, uint64_t seed) {
  std::vector<double> cdf(n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i)
    cdf[i] = sum += 1.0 / std::pow(static_cast<double>(i + 1), s);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, sum);
  std::vector<uint32_t> out(count);
  for (auto& x : out)
    x = static_cast<uint32_t>(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin());
  return out;
}

std::string key_of(uint32_t rank) {
  // Ranks scattered over the key space, so that hot keys do not share a hash neighbourhood.
  return "user:" + std::to_string((rank * 2654435761u) % 1000003u);
}

// Best of `rounds` runs of `threads` threads calling `op(thread, i)` for run_time: ops/s.
template <class Op>
double throughput(int threads, Op op) {
  double best = 0;
  for (int r = 0; r < rounds; ++r) {
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> total{0};
    std::vector<std::thread> workers;
    auto start = steady_clock::now();
    for (int t = 0; t < threads; ++t)
      workers.emplace_back([&, t] {
        uint64_t n = 0;
        size_t i = static_cast<size_t>(t) * (sequence_length / 2);
        while (!stop.load(std::memory_order_relaxed)) {
          for (int k = 0; k < 256; ++k)
            n += op(t, i++ % sequence_length);
        }
        total += n;
      });
    std::this_thread::sleep_for(run_time);
    stop = true;
    for (auto& w : workers)
      w.join();
    double secs = duration<double>(steady_clock::now() - start).count();
    best = std::max(best, static_cast<double>(total.load()) / secs);
  }
  return best;
}

// The median of `samples` single calls of `op(i)`, each timed with steady_clock.
template <class Op>
double p50_ns(Op op) {
  constexpr size_t samples = 200000;
  std::vector<int64_t> ns(samples);
  for (size_t i = 0; i < samples; ++i) {
    auto t0 = steady_clock::now();
    op(i % sequence_length);
    ns[i] = duration_cast<nanoseconds>(steady_clock::now() - t0).count();
  }
  std::nth_element(ns.begin(), ns.begin() + samples / 2, ns.end());
  return static_cast<double>(ns[samples / 2]);
}

// Hit ratio of "get; on a miss put" over `trace`, through the store alone or through a view
// the store publishes to (drained before every put and when due, as the memory tier does).
double replay(const std::vector<uint32_t>& trace, bool through_view) {
  memory_tier_config cfg;
  cfg.max_entries = 1000;
  detail::memory_store store{cfg};
  detail::read_view view{0, 1};
  bool due = false;
  auto drain = [&] {
    view.accesses().drain([&](const detail::access_record& r) { store.record_read(r); });
    due = false;
  };
  if (through_view) {
    store.attach(&view);
    view.accesses().on_drain_due([&] { due = true; });
  }
  uint64_t hits = 0;
  for (auto rank : trace) {
    auto key = "k" + std::to_string(rank);
    bool hit = through_view ? view.read(key, 0, [](std::string_view, const bytes&, int64_t) {})
                            : store.get(key, 0).has_value();
    if (hit) {
      ++hits;
      if (due)
        drain();
      continue;
    }
    if (through_view) {
      store.get(key, 0); // the miss goes to the tier, which counts it for the sketch
      drain();
    }
    store.put(key, bytes{"v"}, 0, 0);
  }
  return static_cast<double>(hits) / static_cast<double>(trace.size());
}

} // namespace

int main() {
  auto ranks = zipf(cached_keys, 0.99, sequence_length, 1);
  std::vector<std::string> keys(sequence_length);
  for (size_t i = 0; i < sequence_length; ++i)
    keys[i] = key_of(ranks[i]);

  // The limit: one thread, a plain hash map, the same keys.
  std::unordered_map<std::string, std::string> plain;
  for (uint32_t r = 0; r < cached_keys; ++r)
    plain.emplace(key_of(r), value);
  double limit = throughput(1, [&](int, size_t i) {
    auto it = plain.find(keys[i]);
    return it != plain.end() && it->second.size() == 64 ? 1 : 0;
  });

  caf::actor_system_config cfg;
  caf::actor_system sys{bench::configure(cfg)};
  cache_config cache_cfg;
  memory_tier_config mem;
  mem.max_entries = cached_keys * 2;
  cache_cfg.add_memory_tier(tier_config::at_level(1), mem);
  auto cache = *spawn_cache(sys, cache_cfg);
  double view_get = 0, view_copy = 0, p50 = 0, timer_p50 = 0, w16 = 0;
  {
    blocking_cache client{sys, cache, 10s};
    for (uint32_t r = 0; r < cached_keys; ++r)
      client.set(key_of(r), bytes{value}, strategy::long_term());
    auto view = client.view();
    view_get = throughput(2, [&](int, size_t i) {
      auto hit = view.get(keys[i]);
      return hit && hit->value.size() == 64 ? 1 : 0;
    });
    p50 = p50_ns([&](size_t i) { return view.get(keys[i]).has_value(); });
    timer_p50 = p50_ns([](size_t) { return true; });
    auto stats = client.stats();
    std::printf("view hits counted by the cache: %llu\n",
                stats ? static_cast<unsigned long long>(stats->tier_hits[0]) : 0ull);
    for (int r = 0; r < rounds; ++r) {
      auto start = steady_clock::now();
      constexpr size_t batch = 20480;
      bench::drive<lookup>(sys, cache, batch, 16, nullptr, caf::duration{10s}, get_atom::value,
                           keys[0]);
      w16 = std::max(w16, batch / duration<double>(steady_clock::now() - start).count());
    }
  }
  stop_cache(cache);
  cache = nullptr;

  std::vector<std::string> distinct;
  for (uint32_t r = 0; r < cached_keys; ++r)
    distinct.push_back(key_of(r));
  auto run2 = [&](auto op) { return throughput(2, op); };
  auto alt = alternative_views::measure(keys, cached_keys, distinct, value, run2);
  // The view itself without a reference to the value: 64 bytes copied out inside the read.
  {
    detail::read_view standalone{0, 1};
    for (uint32_t r = 0; r < cached_keys; ++r)
      standalone.publish(bytes{distinct[r], value}, detail::read_view::never, r, 0);
    view_copy = run2([&](int, size_t i) {
      char out[64] = {};
      bool hit = standalone.read(keys[i], 0, [&](std::string_view v, const bytes&, int64_t) {
        std::copy(v.data(), v.data() + std::min<size_t>(v.size(), 64), out);
      });
      // Nothing drains this view: its rings fill and drop, as a stalled tier's would.
      return hit && out[0] == 'v' ? 1 : 0;
    });
  }

  auto trace = zipf(100000, 0.99, 1000000, 7);
  double exact = replay(trace, false);
  double through_view = replay(trace, true);

  std::printf("unordered_map::find, 1 thread:        %12.0f /s\n", limit);
  std::printf("l1_view::get, 2 threads:              %12.0f /s (ratio %.2f)\n", view_get,
              view_get / limit);
  std::printf("read_view::read copying out, 2 thr.:  %12.0f /s\n", view_copy);
  std::printf("shared_mutex shards, 2 threads:       %12.0f /s\n", alt.shared_mutex_shards);
  std::printf("atomic_load(shared_ptr), 2 threads:   %12.0f /s\n", alt.atomic_shared_ptr);
  std::printf("L1 get through the cache, w16:        %12.0f /s (speedup %.1f)\n", w16,
              view_get / w16);
  std::printf("p50 of one get: %.0f ns (timer alone %.0f ns)\n", p50, timer_p50);
  std::printf("hit ratio: exact %.4f, through the view %.4f\n", exact, through_view);
  std::printf("result l1_view_get %.0f\n", view_get);
  std::printf("result l1_view_get_limit %.0f\n", limit);
  std::printf("result l1_view_get_copy %.0f\n", view_copy);
  std::printf("result l1_view_alt_shared_mutex %.0f\n", alt.shared_mutex_shards);
  std::printf("result l1_view_alt_atomic_shared_ptr %.0f\n", alt.atomic_shared_ptr);
  std::printf("result l1_view_l1_get_w16_t2 %.0f\n", w16);
  std::printf("result l1_view_get_p50_ns %.0f\n", p50);
  std::printf("result l1_view_timer_p50_ns %.0f\n", timer_p50);
  std::printf("result l1_view_hit_ratio_exact %.4f\n", exact);
  std::printf("result l1_view_hit_ratio_view %.4f\n", through_view);
  std::printf("result l1_view_hit_ratio_delta %.4f\n", through_view - exact);
  return 0;
}

// Cost of metrics. metrics_l1_on / metrics_l1_off: L1-hit gets per second from 4 client
// threads (one request outstanding each, through blocking_cache) with the
// /metrics endpoint up and scraped every 100 ms, and without it, alternating in the same
// rounds (5 rounds of 1 s each way; medians). metrics_scrape_ms: one GET /metrics of 10
// caches over HTTP on loopback, median of 20. Prints "name value" lines.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include "bench_system.hpp"
#include "mtcache/cli/http_get.hpp"
#include "mtcache/runtime/blocking_client.hpp"
#include "mtcache/runtime/message_types.hpp"
#include "mtcache/runtime/metrics.hpp"
#include "mtcache/runtime/scheduler_tuning.hpp"
#include "mtcache/runtime/spawn_cache.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr int client_threads = 4;
constexpr int rounds = 5;
constexpr auto round_time = 1s;

// L1-hit gets per second on `cache` from `client_threads` threads; scraping `url` every
// 100 ms meanwhile if it is not empty.
double l1_hits_per_second(caf::actor_system& sys, const cache_actor& cache,
                          const std::string& url) {
  std::atomic<bool> running{true};
  std::atomic<uint64_t> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < client_threads; ++t)
    threads.emplace_back([&, t] {
      blocking_cache client{sys, cache, 5s};
      auto key = "k" + std::to_string(t % 16);
      uint64_t n = 0;
      while (running) {
        if (client.get(key))
          ++n;
      }
      done += n;
    });
  std::thread scraper;
  if (!url.empty())
    scraper = std::thread([&] {
      while (running) {
        cli::http_get(url);
        std::this_thread::sleep_for(100ms);
      }
    });
  auto start = clock_type::now();
  std::this_thread::sleep_for(round_time);
  running = false;
  for (auto& t : threads)
    t.join();
  auto secs = std::chrono::duration<double>(clock_type::now() - start).count();
  if (scraper.joinable())
    scraper.join();
  return static_cast<double>(done) / secs;
}

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  return xs[xs.size() / 2];
}

} // namespace

int main() {
  caf::actor_system_config cfg;
  caf::actor_system sys{bench::configure(cfg)};

  // Two identical caches; only `on` serves /metrics, and only its rounds are scraped.
  auto plain = cache_config::embedded();
  plain.name = "off";
  auto served = cache_config::embedded();
  served.name = "on";
  served.metrics.enabled = true;
  served.metrics.port = 0;
  auto off = spawn_cache(sys, plain);
  auto on = spawn_cache(sys, served);
  if (!off || !on) {
    std::fprintf(stderr, "metrics_bench: cannot spawn the caches\n");
    return 1;
  }
  auto url = "http://127.0.0.1:" + std::to_string(metrics_port(sys)) + "/metrics";
  for (auto* c : {&*off, &*on}) {
    blocking_cache client{sys, *c, 5s};
    for (int k = 0; k < 16; ++k)
      client.set("k" + std::to_string(k), bytes{std::string(64, 'v')}, strategy::long_term());
  }
  std::vector<double> with, without;
  for (int r = 0; r < rounds; ++r) {
    without.push_back(l1_hits_per_second(sys, *off, {}));
    with.push_back(l1_hits_per_second(sys, *on, url));
  }
  std::printf("metrics_l1_off %.0f\nmetrics_l1_on %.0f\n", median(without), median(with));

  // Ten caches in one scrape (the two above and eight more, each with 1 000 entries).
  std::vector<cache_actor> more;
  for (int i = 0; i < 8; ++i) {
    auto c = cache_config::embedded();
    c.name = "c" + std::to_string(i);
    auto spawned = spawn_cache(sys, c);
    if (!spawned)
      return 1;
    blocking_cache client{sys, *spawned, 5s};
    for (int k = 0; k < 1000; ++k)
      client.set("k" + std::to_string(k), bytes{"v"});
    more.push_back(*spawned);
  }
  std::vector<double> scrape_ms;
  size_t bytes_served = 0;
  for (int i = 0; i < 21; ++i) {
    auto start = clock_type::now();
    auto reply = cli::http_get(url);
    auto ms = std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
    if (!reply || reply->status != 200)
      return 1;
    bytes_served = reply->body.size();
    if (i > 0) // the first one warms the connection path up
      scrape_ms.push_back(ms);
  }
  std::printf("metrics_scrape_ms %.2f\nmetrics_scrape_bytes %zu\n", median(scrape_ms),
              bytes_served);
  for (auto& c : more)
    stop_cache(c);
  stop_cache(*off);
  stop_cache(*on);
  return 0;
}

// The Redis tier on a Redis Cluster of this binary's own (3 primaries, 3 replicas, loopback):
//
// - get/set throughput through the cache (L2 alone, as cache_bench's L2 cases) against
//   `redis-benchmark --cluster -P 16 -d 64` on the same cluster right before, in rounds; the
//   round with the median ratio is reported. Each driver of the cache asks a key of its own,
//   the drivers spread over the three primaries, as redis-benchmark spreads its clients (one
//   key per primary: a batch reads each primary's key with one MGET). Also gets over 3 000
//   keys spread over the slots (a GET and a PTTL each, where redis-benchmark -r sends a GET).
// - single-request get latency (p50) on the cluster against a single redis-server of its own,
//   measured the same way in the same run.
// - 3 000 slots resharded (redis-cli --cluster reshard) under versioned writes: every write
//   sets the next version of its key, every read must return the last acknowledged version
//   (one writer per key), and afterwards every key must hold it on the cluster.
// - a primary SIGKILLed: time until a write of one of its keys succeeds through the tier.
//
//   cluster_bench [rounds]   (default 3)
//
// Prints "result <name> <value>" lines for bench/run_all.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "mtcache/actors/redis_tier.hpp"
#include "mtcache/runtime/message_types.hpp"
#include "mtcache/runtime/scheduler_tuning.hpp"
#include "mtcache/runtime/spawn_cache.hpp"
#include "request_driver.hpp"
#include "reshard_load.hpp"
#include "round_report.hpp"
#include "support/redis_cluster.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using mtcache::testing::redis_cluster;

namespace {

const std::string value(64, 'v');
constexpr auto side_duration = 1s;
constexpr int resharded_slots = 3000;

double ms_since(clock_type::time_point begin) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - begin).count();
}

// Requests per second through `cache` with `outstanding` in flight for about
// `side_duration`; driver d asks `keys[d % keys.size()]`.
template <class Reply, class Request>
double through_cache(caf::actor_system& sys, size_t outstanding, Request request) {
  constexpr size_t batch = 20480;
  size_t total = 0;
  auto begin = clock_type::now();
  do {
    bench::drive_with<Reply>(sys, batch, outstanding, nullptr, request);
    total += batch;
  } while (clock_type::now() - begin < side_duration);
  return static_cast<double>(total) / (ms_since(begin) / 1000.0);
}

// redis-benchmark --cluster's requests per second for GET and SET; with `spread`, over that
// many random keys instead of one per primary.
std::pair<double, double> redis_benchmark(uint16_t port, size_t spread = 0) {
  auto line = "redis-benchmark --cluster -h 127.0.0.1 -p " + std::to_string(port) +
              " -t get,set -P 16 -d 64 -n 1000000 -q" +
              (spread > 0 ? " -r " + std::to_string(spread) : std::string{}) +
              " 2>/dev/null | tr '\\r' '\\n'";
  auto* pipe = popen(line.c_str(), "r");
  std::pair<double, double> rates{0, 0};
  if (pipe == nullptr)
    return rates;
  char buf[512];
  while (fgets(buf, sizeof(buf), pipe) != nullptr) {
    double rate = 0;
    if (std::sscanf(buf, "GET: %lf requests per second", &rate) == 1)
      rates.first = rate;
    else if (std::sscanf(buf, "SET: %lf requests per second", &rate) == 1)
      rates.second = rate;
  }
  pclose(pipe);
  return rates;
}

// A cache with one Redis tier (L1 disabled) on `url`, answering a write.
std::optional<cache_actor> l2_cache(caf::actor_system& sys, const std::string& url,
                                    const std::vector<std::string>& keys) {
  cache_config cfg;
  redis_tier_config r;
  r.url = url;
  cfg.add_redis_tier(tier_config::at_level(2), r);
  auto spawned = spawn_cache(sys, cfg);
  if (!spawned)
    return std::nullopt;
  caf::scoped_actor self{sys};
  auto written = [&] {
    size_t ok = 0;
    for (auto& key : keys)
      self->request(*spawned, 5s, put_atom::value, key, bytes{value}, strategy::long_term())
          .receive([&](write_ack& ack) { ok += ack.written == 1; }, [](caf::error&) {});
    return ok == keys.size();
  };
  if (mtcache::testing::eventually(written, 10s))
    return *spawned;
  stop_cache(*spawned);
  return std::nullopt;
}

// One key served by each primary, in primary order.
std::vector<std::string> key_per_primary(const redis_cluster& cluster, const std::string& prefix) {
  std::vector<std::string> keys;
  for (auto owner : cluster.primaries())
    for (int i = 0;; ++i) {
      auto key = prefix + std::to_string(i);
      if (cluster.node_of_slot(cluster.slot_of(key)) == owner) {
        keys.push_back(key);
        break;
      }
    }
  return keys;
}

void throughput_rounds(caf::actor_system& sys, const redis_cluster& cluster, int rounds,
                       const cache_actor& cache, const std::vector<std::string>& keys,
                       const std::vector<std::string>& spread_keys) {
  auto set_keys = key_per_primary(cluster, "bench-set:");
  auto next = std::make_shared<std::atomic<size_t>>(0);
  auto spread_get = [&, next](caf::event_based_actor* self, size_t) {
    auto i = next->fetch_add(1, std::memory_order_relaxed) * 7919 % spread_keys.size();
    return self->request(cache, caf::duration{caf::infinite}, get_atom::value, spread_keys[i]);
  };
  auto get = [&](caf::event_based_actor* self, size_t d) {
    return self->request(cache, caf::duration{caf::infinite}, get_atom::value,
                         keys[d % keys.size()]);
  };
  auto set = [&](caf::event_based_actor* self, size_t d) {
    return self->request(cache, caf::duration{caf::infinite}, put_atom::value,
                         set_keys[d % set_keys.size()], bytes{value}, strategy::short_term());
  };
  std::vector<bench::round_result> gets;
  std::vector<bench::round_result> sets;
  std::vector<bench::round_result> spread;
  for (int r = 1; r <= rounds; ++r) {
    auto spread_limit = redis_benchmark(cluster.port(cluster.primaries()[0]), spread_keys.size());
    auto spread_rate = std::max(through_cache<lookup>(sys, 256, spread_get),
                                through_cache<lookup>(sys, 1024, spread_get));
    spread.push_back({spread_rate, spread_limit.first});
    auto [get_limit, set_limit] = redis_benchmark(cluster.port(cluster.primaries()[0]));
    auto get_rate =
        std::max(through_cache<lookup>(sys, 256, get), through_cache<lookup>(sys, 1024, get));
    auto set_rate =
        std::max(through_cache<write_ack>(sys, 256, set), through_cache<write_ack>(sys, 1024, set));
    gets.push_back({get_rate, get_limit});
    sets.push_back({set_rate, set_limit});
    std::printf("round %d: get %.0f vs %.0f (%.2f), set %.0f vs %.0f (%.2f) ops/s\n", r, get_rate,
                get_limit, gets.back().ratio(), set_rate, set_limit, sets.back().ratio());
    std::fflush(stdout);
  }
  bench::report("l2_cluster_get", gets);
  bench::report("l2_cluster_set", sets);
  bench::report("l2_cluster_get_spread", spread);
}

// p50 of single requests (1 outstanding) on the cluster and on one redis-server, alternating
// so that drift hits both.
void latency(caf::actor_system& sys, const cache_actor& cluster_cache,
             const cache_actor& single_cache, const std::string& key) {
  bench::latency_recorder on_cluster;
  bench::latency_recorder on_single;
  auto one_get = [&](const cache_actor& cache, bench::latency_recorder& recorder) {
    bench::drive<lookup>(sys, cache, 10000, 1, &recorder, caf::duration{caf::infinite},
                         get_atom::value, key);
  };
  for (int i = 0; i < 3; ++i) {
    one_get(single_cache, on_single);
    one_get(cluster_cache, on_cluster);
  }
  std::printf("result l2_cluster_get_p50_us %.1f\nresult l2_single_get_p50_us %.1f\n",
              on_cluster.percentile_us(50), on_single.percentile_us(50));
}

void reshard_under_writes(caf::actor_system& sys, redis_cluster& cluster,
                          const batch_tier_actor& tier) {
  bench::reshard_load load{sys, tier, 12800, 256};
  load.start();
  std::this_thread::sleep_for(1s); // every key written once before slots move
  auto warm = load.writes();
  std::this_thread::sleep_for(1s);
  auto writes_before = load.writes();
  std::printf("result cluster_steady_writes_per_s %llu\n",
              static_cast<unsigned long long>(writes_before - warm));
  auto primaries = cluster.primaries();
  auto begin = clock_type::now();
  bool ok = cluster.reshard(primaries[0], primaries[1], resharded_slots);
  auto took_ms = ms_since(begin);
  auto writes_during = load.writes() - writes_before;
  load.stop();
  if (!ok)
    std::fprintf(stderr, "cluster_bench: %s\n", cluster.error().c_str());
  auto lost = load.lost_writes(cluster);
  std::printf(
      "result cluster_reshard_lost_writes %llu\n"
      "result cluster_reshard_wrong_reads %llu\n"
      "result cluster_reshard_failed_writes %llu\n"
      "result cluster_reshard_reads %llu\n"
      "result cluster_reshard_writes_per_s %.0f\n"
      "result cluster_reshard_ms %.0f\n"
      "result cluster_reshard_slots %d\n",
      static_cast<unsigned long long>(lost), static_cast<unsigned long long>(load.wrong_reads()),
      static_cast<unsigned long long>(load.failed_writes()),
      static_cast<unsigned long long>(load.reads()),
      static_cast<double>(writes_during) / (took_ms / 1000.0), took_ms, ok ? resharded_slots : 0);
  if (!load.first_problem().empty())
    std::fprintf(stderr, "cluster_bench: first problem in the reshard: %s\n",
                 load.first_problem().c_str());
}

// A primary other than the URL's seeds is SIGKILLed; writes of one of its keys are retried
// until one succeeds. Also notes when the cluster itself had promoted the replica.
void failover(caf::actor_system& sys, redis_cluster& cluster, const batch_tier_actor& tier) {
  auto victim = cluster.primaries().back();
  std::string key;
  for (int i = 0; key.empty(); ++i)
    if (auto candidate = "failover:" + std::to_string(i);
        cluster.node_of_slot(cluster.slot_of(candidate)) == victim)
      key = candidate;
  caf::scoped_actor self{sys};
  auto write = [&] {
    bool ok = false;
    self->request(tier, 5s, put_atom::value, key, bytes{value}, caf::timespan{0})
        .receive([&](ok_atom) { ok = true; }, [](caf::error&) {});
    return ok;
  };
  write();
  cluster.kill(victim);
  auto begin = clock_type::now();
  double promoted_ms = -1;
  while (!write() && ms_since(begin) < 30000)
    if (promoted_ms < 0 && cluster.node_of_slot(cluster.slot_of(key)) != victim)
      promoted_ms = ms_since(begin);
  auto written_ms = ms_since(begin);
  if (promoted_ms < 0)
    promoted_ms = written_ms;
  std::printf("result cluster_failover_ms %.0f\nresult cluster_promoted_ms %.0f\n", written_ms,
              promoted_ms);
}

} // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 3;
  if (rounds < 1) {
    std::fprintf(stderr, "usage: cluster_bench [rounds]\n");
    return 2;
  }
  redis_cluster cluster;
  mtcache::testing::redis_server single;
  if (!cluster.start() || !single.start()) {
    std::fprintf(stderr, "cluster_bench: %s%s\n", cluster.error().c_str(), single.error().c_str());
    return 1;
  }
  caf::actor_system_config cfg;
  add_message_types(cfg);
  apply_recommended_scheduler(cfg);
  cfg.set("scheduler.max-threads", 2);
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  auto keys = key_per_primary(cluster, "bench:");
  std::vector<std::string> spread_keys;
  for (int i = 0; i < 3000; ++i)
    spread_keys.push_back("bench-spread:" + std::to_string(i));
  auto all_keys = keys;
  all_keys.insert(all_keys.end(), spread_keys.begin(), spread_keys.end());
  auto cluster_cache = l2_cache(sys, cluster.url(), all_keys);
  auto single_cache = l2_cache(sys, single.url(), keys);
  if (!cluster_cache || !single_cache) {
    std::fprintf(stderr, "cluster_bench: the %s cache did not take a write\n",
                 cluster_cache ? "single-node" : "cluster");
    return 1;
  }
  throughput_rounds(sys, cluster, rounds, *cluster_cache, keys, spread_keys);
  latency(sys, *cluster_cache, *single_cache, keys[0]);
  stop_cache(*cluster_cache);
  stop_cache(*single_cache);
  cluster.on_primaries({"FLUSHALL"});
  redis_tier_config r;
  r.url = cluster.url();
  auto tier = spawn_redis_tier(sys, r, 2);
  if (!tier) {
    std::fprintf(stderr, "cluster_bench: %s\n", sys.render(tier.error()).c_str());
    return 1;
  }
  reshard_under_writes(sys, cluster, *tier);
  failover(sys, cluster, *tier);
  caf::anon_send_exit(*tier, caf::exit_reason::user_shutdown);
  return 0;
}

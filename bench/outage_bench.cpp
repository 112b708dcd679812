// Convergence after faults, measured. Prints "name value" lines for bench/run_all:
//
// - outage_*: the outage scenario of tests/support/outage_scenario.hpp (two nodes, 8
//   threads of 80/20 get/put over 10 000 keys, broadcast_on_write, the audit stream on;
//   Redis SIGKILLed for 5 s and restarted): reads more than 250 ms behind a write
//   acknowledged on every tier (from 100 ms after Redis is back), keys that differ between
//   the nodes or between a node and Redis 2 s after the load stopped, L1 flushes (and why).
//   `outage_bench outage N` runs this scenario alone, N times.
// - recovery_backlog_ms: a node holds 10 000 changes (distinct keys) while Redis is down;
//   once it is back, the time from the first to the last of them reaching Redis, by
//   Redis' own clock (the ids of their audit stream entries).
// - broadcast_large_value_stale: values of 1 MiB and 8 MiB set with broadcast on one node,
//   ten each: reads on the other node that still return the old value 250 ms after the
//   set was acknowledged.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "support/outage_scenario.hpp"
#include "support/redis_server.hpp"
#include "support/two_nodes.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using mtcache::testing::eventually;
using mtcache::testing::node;
using mtcache::testing::redis_server;

namespace {

void outage(redis_server& redis) {
  mtcache::testing::outage_options opts;
  auto r = mtcache::testing::run_outage(redis, opts);
  if (!r.error.empty()) {
    std::fprintf(stderr, "outage: %s\n", r.error.c_str());
    return;
  }
  std::printf("outage_stale_reads %llu\n", static_cast<unsigned long long>(r.stale_reads));
  std::printf("outage_reads_checked %llu\n", static_cast<unsigned long long>(r.reads_checked));
  std::printf("outage_worst_lag_ms %lld\n", static_cast<long long>(r.worst_lag_ms));
  std::printf("outage_divergent_keys %llu\n", static_cast<unsigned long long>(r.divergent_keys));
  std::printf("outage_l1_flushes %llu\n", static_cast<unsigned long long>(r.l1_flushes));
  std::printf("outage_l1_flush_reasons reconnect=%llu,gap=%llu,trimmed=%llu\n",
              static_cast<unsigned long long>(r.flushes_reconnect),
              static_cast<unsigned long long>(r.flushes_gap),
              static_cast<unsigned long long>(r.flushes_trimmed));
  std::printf("outage_partial_acks %llu\n", static_cast<unsigned long long>(r.partial_acks));
  std::printf("outage_repairs %llu\n", static_cast<unsigned long long>(r.repairs));
  std::printf("outage_resubscribed_ms %lld\n", static_cast<long long>(r.resubscribed_ms));
}

cache_config node_config(const redis_server& redis, const std::string& id) {
  auto cfg = mtcache::testing::redis_node_config(redis, id);
  cfg.invalidation.audit = true;
  return cfg;
}

int64_t id_ms(const std::string& id) {
  return std::stoll(id.substr(0, id.find('-')));
}

void backlog(redis_server& redis) {
  constexpr int held = 10000;
  node a{node_config(redis, "node-a")};
  if (!a.ok() || !eventually([&] { return a.bridge().redis_subscribed; })) {
    std::fprintf(stderr, "backlog: the node did not start\n");
    return;
  }
  redis.kill();
  for (int i = 0; i < held; ++i)
    a.client().call<write_ack>(invalidate_atom::value, "held-" + std::to_string(i));
  if (!eventually([&] { return a.bridge().publish_held == held; }, 30s)) {
    std::fprintf(stderr, "backlog: %llu held, not %d\n",
                 static_cast<unsigned long long>(a.bridge().publish_held), held);
    return;
  }
  auto restarted = clock_type::now();
  redis.restart();
  if (!eventually([&] { return a.bridge().publish_held == 0; }, 30s)) {
    std::fprintf(stderr, "backlog: not published\n");
    return;
  }
  auto drained = clock_type::now();
  // Redis came back empty: every entry of the stream now is one of the backlog's.
  std::this_thread::sleep_for(200ms);
  auto ids = redis.command({"XRANGE", "cache:invalidations", "-", "+"});
  int64_t first = 0;
  int64_t last = 0;
  // Entries print as id, then fields, one per line; ids are the lines "<ms>-<seq>" that
  // precede a "type" line.
  std::string prev;
  size_t start = 0;
  for (;;) {
    auto end = ids.find('\n', start);
    auto line = ids.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (line == "type" && prev.find('-') != std::string::npos) {
      auto ms = id_ms(prev);
      first = first == 0 ? ms : std::min(first, ms);
      last = std::max(last, ms);
    }
    prev = line;
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  std::printf("recovery_backlog_ms %lld\n", static_cast<long long>(last - first));
  std::printf("recovery_backlog_messages %llu\n",
              static_cast<unsigned long long>(a.bridge().backlog_messages));
  std::printf(
      "recovery_backlog_total_ms %lld\n",
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(drained - restarted).count()));
}

void large_values(redis_server& redis) {
  node a{node_config(redis, "node-a")};
  node b{node_config(redis, "node-b")};
  if (!a.ok() || !b.ok() ||
      !eventually([&] { return a.bridge().redis_subscribed && b.bridge().redis_subscribed; })) {
    std::fprintf(stderr, "large values: the nodes did not start\n");
    return;
  }
  uint64_t stale = 0;
  uint64_t sets = 0;
  for (size_t size : {size_t{1} << 20, size_t{8} << 20}) {
    std::string key = "large-" + std::to_string(size);
    for (int round = 1; round <= 10; ++round) {
      // The version in front, the rest padding.
      auto value = std::to_string(round) + ":" + std::string(size, 'x');
      auto ack = a.client().call<write_ack>(put_atom::value, key, bytes{value},
                                            strategy::short_term(), broadcast_atom::value);
      if (!ack)
        continue;
      ++sets;
      auto acked = clock_type::now();
      auto fresh = [&] {
        auto res = b.client().get(key);
        return res && res->found &&
               res->value.view().substr(0, value.find(':')) ==
                   std::string_view{value}.substr(0, value.find(':'));
      };
      // Read B once 250 ms after the acknowledgement, as a reader there would.
      std::this_thread::sleep_until(acked + 250ms);
      if (!fresh())
        ++stale;
    }
  }
  std::printf("broadcast_large_value_stale %llu\n", static_cast<unsigned long long>(stale));
  std::printf("broadcast_large_value_sets %llu\n", static_cast<unsigned long long>(sets));
}

} // namespace

int main(int argc, char** argv) {
  redis_server redis;
  if (!redis.start()) {
    std::fprintf(stderr, "outage_bench: %s\n", redis.error().c_str());
    return 1;
  }
  // `outage_bench outage N`: the outage scenario alone, N times (to chase a rare result).
  if (argc == 3 && std::string{argv[1]} == "outage") {
    for (int i = std::atoi(argv[2]); i > 0; --i) {
      outage(redis);
      redis.command({"FLUSHALL"});
    }
    return 0;
  }
  outage(redis);
  redis.command({"FLUSHALL"});
  backlog(redis);
  redis.command({"FLUSHALL"});
  large_values(redis);
  return 0;
}

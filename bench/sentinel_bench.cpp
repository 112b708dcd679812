// Failover through Redis Sentinel, measured. Prints "name value" lines for bench/run_all:
//
// - sentinel_failover_ms: on a Sentinel set of real servers (tests/support/
//   redis_sentinel_set.hpp: one primary, one replica, three sentinels, down-after 1000 ms),
//   the time from SIGSTOP of the primary to the first write acknowledged through mtcache's
//   Redis tier, which writes one key after another meanwhile (request_timeout 300 ms).
//   The median of `rounds` failovers (argument 1, default 3); the old primary is resumed
//   and made a replica of the new one before the next round.
// - sentinel_failover_rounds_ms: every round's figure, comma-separated.
// - sentinel_failover_lost_acks: acknowledged versions that a read after the failover
//   did not see (a versioned writer; must be 0).
#include <algorithm>
#include <chrono>
#include <cstdio>
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
#include "support/redis_sentinel_set.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using mtcache::testing::redis_sentinel_set;

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
  redis_sentinel_set set;
  if (!set.start()) {
    std::fprintf(stderr, "sentinel_bench: %s\n", set.error().c_str());
    return 1;
  }
  caf::actor_system_config cfg;
  add_message_types(cfg);
  apply_recommended_scheduler(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  redis_tier_config tier_cfg;
  tier_cfg.url = set.url();
  tier_cfg.request_timeout = 300ms;
  tier_cfg.connect_timeout = 500ms;
  auto tier = spawn_redis_tier(sys, tier_cfg, 2);
  if (!tier) {
    std::fprintf(stderr, "sentinel_bench: %s\n", sys.render(tier.error()).c_str());
    return 1;
  }
  caf::scoped_actor self{sys};
  // The tier keeps timers: it must be told to exit, or ~actor_system waits for it forever.
  auto give_up = [&](const std::string& why) {
    std::fprintf(stderr, "sentinel_bench: %s\n", why.c_str());
    caf::anon_send_exit(*tier, caf::exit_reason::user_shutdown);
    return 1;
  };
  uint64_t version = 0;
  uint64_t acked = 0;
  uint64_t lost = 0;
  auto write = [&] {
    auto v = ++version;
    bool ok = false;
    self->request(*tier, 2s, put_atom::value, std::string{"ver"}, bytes{std::to_string(v)},
                  caf::timespan{0})
        .receive([&](ok_atom) { ok = true; }, [&](caf::error&) {});
    if (ok)
      acked = v;
    return ok;
  };
  auto check = [&] {
    self->request(*tier, 2s, get_atom::value, std::string{"ver"})
        .receive(
            [&](lookup& res) {
              if (!res.found || std::stoull(res.value.str()) < acked)
                ++lost;
            },
            [&](caf::error&) { ++lost; });
  };
  std::vector<int64_t> figures;
  for (int round = 0; round < rounds; ++round) {
    auto deadline = clock_type::now() + 10s;
    while (!write() && clock_type::now() < deadline)
      std::this_thread::sleep_for(10ms);
    auto primary = set.primary_by(0);
    if (primary < 0)
      return give_up("the sentinels name no primary");
    auto& node = set.node(static_cast<size_t>(primary));
    node.pause();
    auto stopped = clock_type::now();
    deadline = stopped + 30s;
    bool through = false;
    while (!(through = write()) && clock_type::now() < deadline) {
      // A write fails at once while the tier waits to reconnect: do not spin on it.
      std::this_thread::sleep_for(1ms);
    }
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - stopped);
    if (!through)
      return give_up("no write went through within 30 s");
    figures.push_back(took.count());
    check();
    // The write may have gone through before the sentinels name the new primary.
    auto next = static_cast<size_t>(1 - primary);
    if (!set.wait_primary(next, 30s) || !set.rejoin(static_cast<size_t>(primary)) ||
        !set.wait_settled(30s))
      return give_up("the set did not settle after round " + std::to_string(round));
    check();
  }
  auto sorted = figures;
  std::sort(sorted.begin(), sorted.end());
  std::printf("sentinel_failover_ms %lld\n", static_cast<long long>(sorted[sorted.size() / 2]));
  std::string all;
  for (auto x : figures)
    all += (all.empty() ? "" : ",") + std::to_string(x);
  std::printf("sentinel_failover_rounds_ms %s\n", all.c_str());
  std::printf("sentinel_failover_lost_acks %llu\n", static_cast<unsigned long long>(lost));
  caf::anon_send_exit(*tier, caf::exit_reason::user_shutdown);
  return 0;
}

// Fleet-wide flights: three nodes in this process linked over CAF, one redis-server as their
// shared L2 (support/fleet_nodes.hpp). Each trial sends 200 get_or_compute of one cold key
// from every node at once, with a 100 ms loader: the loader must run once in the whole fleet.
// Then trials where the key's owner leaves while it loads (a 500 ms loader, the callers on
// the two other nodes): at most one load more. Then the first trials again with three nodes
// that are not linked and share only the Redis, with load leases on (cache_options::
// load_lease): the lease must keep the loader to one call as well. Prints "name value" lines
// for bench/run_all.
//
//   fleet_bench [trials]   (default 5)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "support/fleet_nodes.hpp"
#include "support/redis_server.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using mtcache::testing::eventually;
using mtcache::testing::fleet_nodes;

namespace {

constexpr size_t per_node = 200;

// Loader calls for one cold key asked by every node; -1 if a caller got no value.
int one_key(fleet_nodes& fleet, const std::string& key) {
  auto before = fleet.loader_calls->load();
  std::vector<testing::node*> all;
  for (auto& n : fleet.nodes)
    all.push_back(n.get());
  auto res = fleet_nodes::callers{fleet, all, key, per_node, 100ms}.collect();
  if (!res.errors.empty() || res.values.size() != per_node * all.size())
    return -1;
  return fleet.loader_calls->load() - before;
}

// Loader calls when the owner of a cold key leaves during its load; -1 if a caller of the
// two other nodes got no value.
int owner_leaves(const testing::redis_server& redis, int trial) {
  fleet_nodes fleet{redis};
  if (auto err = fleet.start(3); !err.empty()) {
    std::fprintf(stderr, "fleet_bench: %s\n", err.c_str());
    return -1;
  }
  auto key = fleet.key_owned_by(2, "leave:" + std::to_string(trial) + ":");
  fleet_nodes::callers callers{
      fleet, {fleet.nodes[0].get(), fleet.nodes[1].get()}, key, per_node, 500ms};
  if (!eventually([&] { return fleet.loader_calls->load() >= 1; }))
    return -1;
  fleet.nodes[2].reset();
  auto res = callers.collect();
  if (!res.errors.empty() || res.values.size() != 2 * per_node)
    return -1;
  return fleet.loader_calls->load();
}

} // namespace

int main(int argc, char** argv) {
  int trials = argc > 1 ? std::atoi(argv[1]) : 5;
  if (trials < 1) {
    std::fprintf(stderr, "usage: fleet_bench [trials]\n");
    return 2;
  }
  testing::redis_server redis;
  if (!redis.start()) {
    std::fprintf(stderr, "fleet_bench: %s\n", redis.error().c_str());
    return 1;
  }
  int worst = 0;
  {
    fleet_nodes fleet{redis};
    if (auto err = fleet.start(3); !err.empty()) {
      std::fprintf(stderr, "fleet_bench: %s\n", err.c_str());
      return 1;
    }
    for (int t = 0; t < trials; ++t) {
      auto calls = one_key(fleet, "cold:" + std::to_string(t));
      std::fprintf(stderr, "trial %d: %d loader calls for %zu callers on 3 nodes\n", t, calls,
                   3 * per_node);
      worst = calls < 0 ? 1000000 : std::max(worst, calls);
    }
  }
  int worst_leave = 0;
  for (int t = 0; t < std::max(1, trials / 2); ++t) {
    auto calls = owner_leaves(redis, t);
    std::fprintf(stderr, "owner leaves, trial %d: %d loader calls\n", t, calls);
    worst_leave = calls < 0 ? 1000000 : std::max(worst_leave, calls);
  }
  int worst_lease = 0;
  {
    fleet_nodes fleet{redis};
    fleet.linked = false;
    fleet.options.load_lease = true;
    if (auto err = fleet.start(3); !err.empty()) {
      std::fprintf(stderr, "fleet_bench: %s\n", err.c_str());
      return 1;
    }
    for (int t = 0; t < trials; ++t) {
      auto calls = one_key(fleet, "lease:" + std::to_string(t));
      std::fprintf(stderr, "lease trial %d: %d loader calls for %zu callers on 3 unlinked nodes\n",
                   t, calls, 3 * per_node);
      worst_lease = calls < 0 ? 1000000 : std::max(worst_lease, calls);
    }
  }
  std::printf("fleet_flight_loader_calls %d\n", worst);
  std::printf("fleet_flight_loader_calls_owner_leaves %d\n", worst_leave);
  std::printf("lease_flight_loader_calls %d\n", worst_lease);
  return 0;
}

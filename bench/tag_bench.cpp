// Removing a tag carried by 100 000 entries (issue: tag_removal_ms <= 10 ms plus the propagation
// delay). Two nodes (two actor systems in this process, so one clock times both ends) share a
// redis-server with invalidation over Pub/Sub; A writes the entries with the tag and B reads them
// all into its L1. The figure runs from A's remove_by_tag call until B stops serving the key it
// is polled on (through its read view, as fast as a read can be), and every one of the 100 000
// is then checked on both nodes. The limit beside it is 10 ms plus the median propagation of a
// plain invalidation between the same nodes in the same run. Prints "name value" lines.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "support/two_nodes.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using mtcache::testing::eventually;
using mtcache::testing::node;

namespace {

constexpr int entries = 100'000;

double ms_since(clock_type::time_point begin) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - begin).count();
}

// Until B's read view stops serving `key`; -1 after 5 s.
double until_gone(node& b, const std::string& key, clock_type::time_point begin) {
  while (b.client().view().get(key)) {
    if (clock_type::now() - begin > 5s)
      return -1;
  }
  return ms_since(begin);
}

// A plain invalidation of one key, A to B's L1, median of 21.
double propagation_ms(node& a, node& b) {
  std::vector<double> samples;
  for (int i = 0; i < 21; ++i) {
    auto key = "probe" + std::to_string(i);
    a.client().set(key, bytes{"v"}, strategy::long_term());
    b.client().get(key);
    if (!b.in_l1(key))
      return -1;
    auto begin = clock_type::now();
    a.client().call<write_ack>(invalidate_atom::value, key);
    samples.push_back(until_gone(b, key, begin));
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

uint64_t served(node& n, const std::vector<std::string>& keys) {
  uint64_t count = 0;
  for (size_t i = 0; i < keys.size(); i += 1000) {
    std::vector<std::string> chunk(keys.begin() + i,
                                   keys.begin() + std::min(keys.size(), i + 1000));
    auto many = n.client().get_many(chunk);
    if (!many)
      return keys.size();
    for (auto& res : many->results)
      count += res.found ? 1 : 0;
  }
  return count;
}

} // namespace

int main() {
  mtcache::testing::redis_server redis;
  if (!redis.start()) {
    std::fprintf(stderr, "%s\n", redis.error().c_str());
    return 1;
  }
  auto cfg = [&](const std::string& id) {
    auto c = mtcache::testing::redis_node_config(redis, id);
    c.tiers.front().memory.max_entries = 2 * entries;
    return c;
  };
  node a{cfg("a")};
  node b{cfg("b")};
  if (!a.ok() || !b.ok()) {
    std::fprintf(stderr, "tag_bench: %s%s\n", a.error().c_str(), b.error().c_str());
    return 1;
  }
  eventually([&] { return a.bridge().redis_subscribed && b.bridge().redis_subscribed; });
  std::vector<std::string> keys;
  keys.reserve(entries);
  for (int i = 0; i < entries; ++i) {
    keys.push_back("tagged:" + std::to_string(i));
    if (!a.client().set(keys.back(), bytes{std::string(64, 'v')}, strategy::long_term(),
                        {"tenant:7"})) {
      std::fprintf(stderr, "tag_bench: a write failed\n");
      return 1;
    }
  }
  auto in_b = served(b, keys);
  auto b_l1 = b.l1_size();
  auto prop = propagation_ms(a, b);
  auto begin = clock_type::now();
  auto ack = a.client().remove_by_tag("tenant:7");
  auto local = ms_since(begin);
  auto gone = until_gone(b, keys.back(), begin);
  if (!ack || gone < 0) {
    std::fprintf(stderr, "tag_bench: the removal did not reach B\n");
    return 1;
  }
  std::printf("tag_removal_ms %.3f\n", gone);
  std::printf("tag_removal_limit_ms %.3f\n", 10 + prop);
  std::printf("tag_removal_propagation_ms %.3f\n", prop);
  std::printf("tag_removal_local_ms %.3f\n", local);
  std::printf("tag_removal_entries %d\n", entries);
  std::printf("tag_removal_b_cached %llu\n", static_cast<unsigned long long>(in_b));
  std::printf("tag_removal_b_l1 %llu\n", static_cast<unsigned long long>(b_l1));
  std::printf("tag_removal_served_after %llu\n",
              static_cast<unsigned long long>(served(a, keys) + served(b, keys)));
  return 0;
}

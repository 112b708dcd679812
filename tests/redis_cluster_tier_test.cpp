// The Redis tier on a real six-node Redis Cluster (3 primaries, 3 replicas, started per test):
// every operation reaches the primary that serves its key, batches spanning many slots never
// meet CROSSSLOT, and the tier rides out a live reshard (MOVED), a slot held half-migrated
// (ASK) and a killed primary (failover) without losing an acknowledged write.
#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "support/cluster_tier_fixture.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using mtcache::testing::numbered;

namespace {

using mtcache::testing::RedisClusterTier;

// Answers a probe get that missed with a lookup of this level, so the test sees who answered.
constexpr uint32_t route_level = 77;

miss_route::behavior_type answer_misses() {
  return {[](miss_atom, const std::string&, bool, const caf::message&) {
    lookup miss;
    miss.level = route_level;
    return miss;
  }};
}

TEST_F(RedisClusterTier, EverySingleKeyOperationReachesTheSlotOwner) {
  start();
  auto keys = numbered("single:", 60);
  std::map<size_t, int> keys_per_primary;
  for (auto& key : keys) {
    ASSERT_TRUE(put(key, "v-" + key)) << key;
    EXPECT_EQ(stored(key), "v-" + key);
    ++keys_per_primary[*cluster.node_of_slot(cluster.slot_of(key))];
  }
  ASSERT_EQ(keys_per_primary.size(), 3u) << "the keys should span every primary";
  for (auto& key : keys) {
    EXPECT_EQ(get(key), "v-" + key);
    EXPECT_TRUE(*ask<bool>(exists_atom::value, key)) << key;
  }
  EXPECT_EQ(get("single:absent"), "(miss)");
  // Probe get: a hit answers directly, a miss is delegated to the route.
  auto route = sys.spawn(answer_misses);
  auto hit = ask<lookup>(get_atom::value, keys[7], route, caf::make_message(1));
  ASSERT_TRUE(hit) << sys.render(hit.error());
  EXPECT_EQ(hit->value.view(), "v-" + keys[7]);
  EXPECT_EQ(hit->level, 2u);
  auto miss =
      ask<lookup>(get_atom::value, std::string{"single:absent"}, route, caf::make_message(1));
  ASSERT_TRUE(miss) << sys.render(miss.error());
  EXPECT_EQ(miss->level, route_level);
  caf::anon_send_exit(route, caf::exit_reason::user_shutdown);
  for (size_t i = 0; i < keys.size(); i += 2) {
    auto removed = ask<uint64_t>(delete_atom::value, keys[i]);
    ASSERT_TRUE(removed) << sys.render(removed.error());
    EXPECT_EQ(*removed, 1u) << keys[i];
    EXPECT_EQ(stored(keys[i]), "(nil)");
    EXPECT_FALSE(*ask<bool>(exists_atom::value, keys[i]));
  }
  auto health = ask<tier_health>(health_atom::value);
  ASSERT_TRUE(health) << sys.render(health.error());
  EXPECT_TRUE(health->ok) << health->detail;
  auto stats = ask<tier_stats>(stats_atom::value);
  ASSERT_TRUE(stats) << sys.render(stats.error());
  EXPECT_GE(stats->writes, 61u);
  EXPECT_GE(stats->hits, 61u);
  EXPECT_GE(stats->misses, 2u);
  EXPECT_EQ(stats->errors, 0u);
  EXPECT_TRUE(stats->connected);
  // One entry per node; the primaries together serve every slot.
  auto primaries = std::count_if(stats->nodes.begin(), stats->nodes.end(),
                                 [](const node_stats& x) { return x.role == "primary"; });
  EXPECT_EQ(primaries, 3);
  for (auto& node : stats->nodes)
    EXPECT_TRUE(node.connected || node.role != "primary") << node.address;
  EXPECT_GE(stats->topology.refreshes, 1u);
  EXPECT_EQ(stats->topology.moved, 0u);
}

// One batch touches keys of hundreds of slots on every primary: no CROSSSLOT, every answer
// in the order of the batch.
TEST_F(RedisClusterTier, BatchesSpanningEverySlotOwnerSucceed) {
  start();
  auto keys = numbered("batch:", 1000);
  std::vector<tier_write> writes;
  for (auto& key : keys)
    writes.push_back({key, bytes{"v-" + key}, caf::timespan{0}});
  auto written = ask<std::vector<caf::error>>(put_atom::value, writes);
  ASSERT_TRUE(written) << sys.render(written.error());
  ASSERT_EQ(written->size(), keys.size());
  EXPECT_TRUE(none_failed(keys, *written,
                          [&](const caf::error& err) { return err ? sys.render(err) : ""; }));
  EXPECT_EQ(cluster.key_count(), keys.size() + 1); // + warmup
  for (auto& reply : cluster.on_primaries({"DBSIZE"}))
    EXPECT_GT(std::stoull(reply), 200u) << "a primary got few of the keys";
  EXPECT_EQ(stored("batch:999"), "v-batch:999");
  auto reads = keys;
  reads.insert(reads.begin() + 500, "batch:absent");
  auto read = ask<read_batch>(get_atom::value, reads);
  ASSERT_TRUE(read) << sys.render(read.error());
  ASSERT_EQ(read->results.size(), reads.size());
  EXPECT_TRUE(read->failed.empty()) << read->failed.size() << " keys failed";
  size_t at = 0;
  EXPECT_TRUE(none_failed(reads, read->results, [&](const lookup& res) -> std::string {
    auto& key = reads[at++];
    if (key == "batch:absent")
      return res.found ? "found" : "";
    if (res.value.str() != "v-" + key || res.ttl_ms != -1)
      return "'" + res.value.str() + "' ttl " + std::to_string(res.ttl_ms);
    return "";
  }));
  auto removed = ask<uint64_t>(delete_atom::value, reads);
  ASSERT_TRUE(removed) << sys.render(removed.error());
  EXPECT_EQ(*removed, keys.size());
  EXPECT_EQ(cluster.key_count(), 1u);
}

// A node that stops answering fails its whole group of a write batch: every write that went
// there is reported failed, and only those (a group failing as a whole used to mark one
// position, the first of the batch, and report the rest of its writes as done).
TEST_F(RedisClusterTier, WriteBatchToAStoppedPrimaryFailsEachOfItsWrites) {
  start();
  auto keys = numbered("stopped:", 30);
  // A primary that does not serve the first key, whose position the bug marked.
  auto primaries = cluster.primaries();
  auto victim = primaries.back();
  if (cluster.node_of_slot(cluster.slot_of(keys[0])) == victim)
    victim = primaries.front();
  std::vector<bool> on_victim;
  std::vector<tier_write> writes;
  for (auto& key : keys) {
    on_victim.push_back(cluster.node_of_slot(cluster.slot_of(key)) == victim);
    writes.push_back({key, bytes{"v"}, caf::timespan{0}});
  }
  ASSERT_GE(std::count(on_victim.begin(), on_victim.end(), true), 2);
  cluster.pause(victim);
  auto written = ask<std::vector<caf::error>>(put_atom::value, writes);
  cluster.resume(victim);
  ASSERT_TRUE(written) << sys.render(written.error());
  ASSERT_EQ(written->size(), keys.size());
  size_t at = 0;
  EXPECT_TRUE(none_failed(keys, *written, [&](const caf::error& err) -> std::string {
    auto stopped = on_victim[at++];
    if (stopped && !err)
      return "reported written, its node was stopped";
    if (!stopped && err)
      return sys.render(err);
    return "";
  }));
}

TEST_F(RedisClusterTier, PatternRemovalAndClearScanEveryPrimary) {
  start();
  for (auto& key : numbered("pattern:", 300))
    cluster.command_for_key(key, {"SET", key, "v"});
  for (auto& key : numbered("keep:", 30))
    cluster.command_for_key(key, {"SET", key, "v"});
  auto removed = ask<uint64_t>(delete_atom::value, match_atom::value, std::string{"pattern:*"});
  ASSERT_TRUE(removed) << sys.render(removed.error());
  EXPECT_EQ(*removed, 300u);
  EXPECT_EQ(cluster.key_count(), 31u);
  EXPECT_EQ(stored("keep:29"), "v");
  auto cleared = ask<uint64_t>(clear_atom::value);
  ASSERT_TRUE(cleared) << sys.render(cleared.error());
  EXPECT_EQ(*cleared, 31u);
  EXPECT_EQ(cluster.key_count(), 0u);
}

TEST_F(RedisClusterTier, HashTagsKeepKeysOnOneSlot) {
  start();
  ASSERT_EQ(cluster.slot_of("{user1}:a"), cluster.slot_of("{user1}:b"));
  std::vector<tier_write> writes{{"{user1}:a", bytes{"a"}, caf::timespan{0}},
                                 {"{user1}:b", bytes{"b"}, caf::timespan{0}},
                                 {"{user2}:a", bytes{"c"}, caf::timespan{0}}};
  auto written = ask<std::vector<caf::error>>(put_atom::value, writes);
  ASSERT_TRUE(written) << sys.render(written.error());
  EXPECT_TRUE(none_failed({"{user1}:a", "{user1}:b", "{user2}:a"}, *written,
                          [&](const caf::error& err) { return err ? sys.render(err) : ""; }));
  auto owner = *cluster.node_of_slot(cluster.slot_of("{user1}:a"));
  EXPECT_EQ(cluster.node(owner).command({"MGET", "{user1}:a", "{user1}:b"}), "a\nb");
  cluster.on_primaries({"CONFIG", "RESETSTAT"});
  auto read = ask<read_batch>(get_atom::value,
                              std::vector<std::string>{"{user1}:a", "{user2}:a", "{user1}:b"});
  ASSERT_TRUE(read) << sys.render(read.error());
  ASSERT_EQ(read->results.size(), 3u);
  EXPECT_EQ(read->results[0].value.view(), "a");
  EXPECT_EQ(read->results[1].value.view(), "c");
  EXPECT_EQ(read->results[2].value.view(), "b");
  // The two keys of one slot were read with one MGET (and a PTTL each), not a GET each.
  auto commands = cluster.node(owner).command({"INFO", "commandstats"});
  EXPECT_NE(commands.find("cmdstat_mget:calls=1,"), std::string::npos) << commands;
  EXPECT_EQ(commands.find("cmdstat_get:"), std::string::npos) << commands;
}

} // namespace

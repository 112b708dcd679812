// The Redis cluster tier while the cluster changes under it: slots moving live (MOVED), a slot
// held half-migrated (ASK, TRYAGAIN), a primary killed and replaced by its replica; and two
// caches invalidating each other over the cluster's Pub/Sub.
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/cluster_tier_fixture.hpp"
#include "support/two_nodes.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using mtcache::testing::eventually;
using mtcache::testing::node;
using mtcache::testing::numbered;
using mtcache::testing::redis_cluster;
using mtcache::testing::RedisClusterTier;

namespace {

// Writes versions 1, 2, 3... of each key in turn (the value is the version) and reads another
// key after each write, so every read must return exactly the last acknowledged version:
// one writer, nothing else in flight. A failed write is retried with the same version, so
// at the end each key holds its last acknowledged version.
class versioned_writer {
public:
  versioned_writer(RedisClusterTier& test, std::vector<std::string> keys)
      : test_(test), keys_(std::move(keys)), acked_(keys_.size(), 0) {
    // nop
  }

  /// One write and one read; false once a write kept failing for 5 s.
  bool step() {
    auto i = writes_ % keys_.size();
    auto version = std::to_string(acked_[i] + 1);
    auto deadline = std::chrono::steady_clock::now() + 5s;
    for (auto res = test_.put(keys_[i], version); !res; res = test_.put(keys_[i], version)) {
      note_problem(res.message());
      ++failed_writes_;
      if (std::chrono::steady_clock::now() > deadline)
        return false;
    }
    ++acked_[i];
    ++writes_;
    auto j = (i * 7 + 3) % keys_.size();
    check_read(j, test_.get(keys_[j]));
    if (writes_ % 100 == 0)
      check_batch();
    return true;
  }

  void check_batch() {
    auto read = test_.ask<read_batch>(get_atom::value, keys_);
    if (!read || read->results.size() != keys_.size() || !read->failed.empty()) {
      ++failed_reads_;
      note_problem("batched get failed: " +
                   (read ? std::to_string(read->failed.size()) + " keys failed"
                         : test_.render(read.error())));
      return;
    }
    for (size_t j = 0; j < keys_.size(); ++j)
      check_read(j, read->results[j].found ? read->results[j].value.str() : "(miss)");
  }

  /// Keys whose value on the cluster is not their last acknowledged version.
  std::vector<std::string> lost_writes() {
    std::vector<std::string> out;
    auto held = test_.cluster.values_of(keys_);
    for (size_t i = 0; i < keys_.size(); ++i)
      if (held[i] != std::to_string(acked_[i]))
        out.push_back(keys_[i] + " holds " + held[i] + ", acknowledged " +
                      std::to_string(acked_[i]));
    return out;
  }

  uint64_t writes() const { return writes_; }
  uint64_t failed_writes() const { return failed_writes_; }
  uint64_t failed_reads() const { return failed_reads_; }
  uint64_t wrong_reads() const { return wrong_reads_; }
  const std::string& first_problem() const { return first_problem_; }

private:
  void check_read(size_t j, const std::string& value) {
    auto expected = acked_[j] == 0 ? "(miss)" : std::to_string(acked_[j]);
    if (value.rfind("error: ", 0) == 0) {
      ++failed_reads_;
      note_problem("get " + keys_[j] + ": " + value);
    } else if (value != expected) {
      ++wrong_reads_;
      note_problem("get " + keys_[j] + " returned " + value + ", acknowledged " + expected);
    }
  }

  void note_problem(const std::string& what) {
    if (first_problem_.empty())
      first_problem_ = what;
  }

  RedisClusterTier& test_;
  std::vector<std::string> keys_;
  std::vector<uint64_t> acked_;
  uint64_t writes_ = 0;
  uint64_t failed_writes_ = 0;
  uint64_t failed_reads_ = 0;
  uint64_t wrong_reads_ = 0;
  std::string first_problem_;
};

// MOVED: 400 slots move from one primary to another (redis-cli --cluster reshard) while one
// writer sets and reads keys of every primary.
TEST_F(RedisClusterTier, LiveReshardLosesNoWriteAndServesNoOldVersion) {
  start();
  auto primaries = cluster.primaries();
  auto from = primaries[0];
  auto to = primaries[1];
  versioned_writer writer{*this, numbered("moved:", 300)};
  for (int i = 0; i < 300; ++i)
    ASSERT_TRUE(writer.step()) << writer.first_problem();
  std::atomic<bool> resharded{false};
  bool reshard_ok = false;
  std::thread mover{[&] {
    reshard_ok = cluster.reshard(from, to, 400);
    resharded = true;
  }};
  bool writing = true;
  while (!resharded && writing)
    writing = writer.step();
  mover.join();
  ASSERT_TRUE(reshard_ok) << cluster.error();
  ASSERT_TRUE(writing) << writer.first_problem();
  for (int i = 0; i < 300; ++i)
    ASSERT_TRUE(writer.step()) << writer.first_problem();
  writer.check_batch();
  EXPECT_EQ(writer.failed_writes(), 0u) << writer.first_problem();
  EXPECT_EQ(writer.failed_reads(), 0u) << writer.first_problem();
  EXPECT_EQ(writer.wrong_reads(), 0u) << writer.first_problem();
  auto lost = writer.lost_writes();
  EXPECT_TRUE(lost.empty()) << lost.size() << " lost, e.g. " << lost.front();
  EXPECT_GT(writer.writes(), 900u);
  auto stats = ask<tier_stats>(stats_atom::value);
  ASSERT_TRUE(stats) << sys.render(stats.error());
  EXPECT_GT(stats->topology.moved, 0u);
  EXPECT_GT(stats->topology.refreshes, 1u);
}

// ASK: a slot held MIGRATING on its owner and IMPORTING on another primary with half its
// keys moved. Reads and writes of moved and unmoved keys succeed and land where the slot
// state says: unmoved keys stay on the source, moved and new keys go to the target.
TEST_F(RedisClusterTier, HalfMigratedSlotServesEveryKeyWhereItIs) {
  start();
  auto keys = numbered("{migrating}:", 40); // one slot
  for (auto& key : keys)
    ASSERT_TRUE(put(key, "v1"));
  auto migration = half_migrate(keys[0], 20);
  ASSERT_TRUE(migration);
  auto from = migration->source();
  auto to = migration->target();
  for (auto& key : keys)
    EXPECT_EQ(get(key), "v1") << key;
  auto fresh = numbered("{migrating}:new:", 10);
  for (auto& key : keys)
    EXPECT_TRUE(put(key, "v2", caf::timespan{60s}));
  for (auto& key : fresh)
    EXPECT_TRUE(put(key, "v2"));
  // A read is GET and PTTL: on the importing node both need ASKING (it holds for one command).
  for (auto& key : keys) {
    auto res = ask<lookup>(get_atom::value, key);
    ASSERT_TRUE(res) << sys.render(res.error());
    EXPECT_TRUE(res->found) << key;
    EXPECT_EQ(res->value.str(), "v2") << key;
    EXPECT_GT(res->ttl_ms, 50000) << key;
  }
  auto read = ask<read_batch>(get_atom::value, keys);
  ASSERT_TRUE(read) << sys.render(read.error());
  EXPECT_TRUE(none_failed(keys, read->results, [&](const lookup& res) -> std::string {
    return res.value.str() == "v2" && res.ttl_ms > 50000 ? "" : "'" + res.value.str() + "'";
  }));
  // Where each key is: on the source if it is still there, else only on the target.
  auto moved = 0;
  for (auto& key : keys) {
    auto at_source = cluster.node(from).command({"GET", key});
    if (at_source.rfind("ERR: ASK", 0) == 0) {
      ++moved;
      EXPECT_EQ(cluster.node(to).pipeline({{"ASKING"}, {"GET", key}}).back(), "v2") << key;
    } else {
      EXPECT_EQ(at_source, "v2") << key;
      EXPECT_EQ(cluster.node(to).pipeline({{"ASKING"}, {"EXISTS", key}}).back(), "0") << key;
    }
  }
  EXPECT_EQ(moved, 20);
  for (auto& key : fresh)
    EXPECT_EQ(cluster.node(to).pipeline({{"ASKING"}, {"GET", key}}).back(), "v2") << key;
  auto stats = ask<tier_stats>(stats_atom::value);
  ASSERT_TRUE(stats) << sys.render(stats.error());
  EXPECT_GT(stats->topology.asked, 0u);
  ASSERT_TRUE(migration->finish()) << migration->error();
  for (auto& key : keys)
    EXPECT_EQ(get(key), "v2") << key;
  EXPECT_EQ(
      cluster.node(to).command({"CLUSTER", "COUNTKEYSINSLOT", std::to_string(migration->slot())}),
      "50");
}

// A batch read of one half-migrated slot is one MGET that the source answers with TRYAGAIN
// for as long as the slot stays split; the tier still has to answer every key.
TEST_F(RedisClusterTier, BatchReadOfAHalfMigratedSlotAnswersEveryKey) {
  start();
  auto keys = numbered("{split}:", 20);
  for (auto& key : keys)
    ASSERT_TRUE(put(key, "v-" + key));
  auto migration = half_migrate(keys[0], 10);
  ASSERT_TRUE(migration);
  auto read = ask<read_batch>(get_atom::value, keys);
  ASSERT_TRUE(read) << sys.render(read.error());
  ASSERT_EQ(read->results.size(), keys.size());
  EXPECT_TRUE(read->failed.empty()) << read->failed.size() << " keys failed";
  for (size_t i = 0; i < keys.size(); ++i)
    EXPECT_EQ(read->results[i].value.str(), "v-" + keys[i]) << keys[i];
  ASSERT_TRUE(migration->finish()) << migration->error();
}

// A batch goes to each node as one command (SETs, or a GET and PTTL per key); the source
// answers ASK for the keys that moved, and each of those must follow to the importing node
// on its own.
TEST_F(RedisClusterTier, BatchesOverAHalfMigratedSlotReachEveryKey) {
  start();
  auto keys = numbered("{split}:", 20);
  for (auto& key : keys)
    ASSERT_TRUE(put(key, "v1"));
  auto migration = half_migrate(keys[0], 10);
  ASSERT_TRUE(migration);
  auto all = keys;
  for (auto& key : numbered("elsewhere:", 20))
    all.push_back(key);
  std::vector<tier_write> writes;
  for (auto& key : all)
    writes.push_back({key, bytes{"v2-" + key}, caf::timespan{0}});
  auto written = ask<std::vector<caf::error>>(put_atom::value, writes);
  ASSERT_TRUE(written) << sys.render(written.error());
  ASSERT_EQ(written->size(), all.size());
  EXPECT_TRUE(none_failed(all, *written,
                          [&](const caf::error& err) { return err ? sys.render(err) : ""; }));
  for (auto& key : all)
    EXPECT_EQ(get(key), "v2-" + key) << key;
  auto moved = 0;
  for (auto& key : keys)
    if (cluster.node(migration->source()).command({"GET", key}).rfind("ERR: ASK", 0) == 0)
      ++moved;
  EXPECT_EQ(moved, 10);
  // Each key of the split slot read in a batch with keys of other slots: it shares one
  // command with the other keys of its node and still follows its own ASK.
  for (auto& key : keys) {
    std::vector<std::string> reads{key};
    reads.insert(reads.end(), all.begin() + 20, all.end());
    auto read = ask<read_batch>(get_atom::value, reads);
    ASSERT_TRUE(read) << sys.render(read.error());
    ASSERT_EQ(read->results.size(), reads.size());
    EXPECT_TRUE(read->failed.empty()) << key;
    for (size_t i = 0; i < reads.size(); ++i)
      EXPECT_EQ(read->results[i].value.str(), "v2-" + reads[i]) << reads[i];
  }
  auto stats = ask<tier_stats>(stats_atom::value);
  ASSERT_TRUE(stats) << sys.render(stats.error());
  EXPECT_GE(stats->topology.asked, 20u);
  ASSERT_TRUE(migration->finish()) << migration->error();
}

// A primary that is not a seed of the URL is SIGKILLed; its replica takes over after the
// node timeout, and writes of its keys succeed again, with nothing acknowledged lost.
TEST_F(RedisClusterTier, KilledPrimaryIsReplacedAndNoAcknowledgedWriteIsLost) {
  start();
  auto keys = numbered("failover:", 200);
  for (auto& key : keys)
    ASSERT_TRUE(put(key, "v-" + key));
  // The replicas have every write before the primary dies (replication is asynchronous; a
  // write Redis itself loses in a failover is not the tier's doing).
  ASSERT_TRUE(cluster.wait_replicated()) << cluster.error();
  auto primaries = cluster.primaries();
  auto victim = primaries.back(); // nodes 0 and 1 are the seeds
  ASSERT_GE(victim, 2u);
  auto victim_key = *std::find_if(keys.begin(), keys.end(), [&](const std::string& key) {
    return cluster.node_of_slot(cluster.slot_of(key)) == victim;
  });
  cluster.kill(victim);
  EXPECT_TRUE(eventually([&] { return put(victim_key, "after"); }, 15s))
      << "no write to the killed primary's slots succeeded within 15 s";
  ASSERT_TRUE(cluster.wait_healthy()) << cluster.error();
  EXPECT_NE(cluster.node_of_slot(cluster.slot_of(victim_key)), victim);
  // What the cluster holds, then what the tier reads: a difference is the tier's.
  auto held = cluster.values_of(keys);
  size_t at = 0;
  auto expected = [&](const std::string& key) { return key == victim_key ? "after" : "v-" + key; };
  EXPECT_TRUE(none_failed(keys, held, [&](const std::string& value) {
    auto& key = keys[at++];
    return value == expected(key) ? "" : "the cluster holds '" + value + "'";
  }));
  EXPECT_TRUE(none_failed(keys, keys, [&](const std::string& key) {
    auto value = get(key);
    return value == expected(key) ? "" : "the tier read '" + value + "'";
  }));
  auto stats = ask<tier_stats>(stats_atom::value);
  ASSERT_TRUE(stats) << sys.render(stats.error());
  EXPECT_GE(stats->topology.failovers, 1u);
  // The killed node comes back as a replica; the tier keeps working.
  ASSERT_TRUE(cluster.restart(victim)) << cluster.node(victim).error();
  ASSERT_TRUE(cluster.wait_healthy()) << cluster.error();
  EXPECT_TRUE(put(victim_key, "later"));
  EXPECT_EQ(get(victim_key), "later");
}

// Two caches (L1 + the cluster as L2) publishing every set and removal to each other over the
// cluster's Pub/Sub, the audit stream on (one key, so one slot).
cache_config cluster_node_config(const std::string& url, const std::string& node_id) {
  cache_config cfg;
  cfg.node_id = node_id;
  cfg.add_memory_tier(tier_config::as_l1());
  redis_tier_config l2;
  l2.url = url;
  l2.request_timeout = 1s;
  l2.backoff_max = 200ms;
  cfg.add_redis_tier(tier_config::as_l2().with_promotion_frequency(1), l2);
  cfg.options.broadcast_on_write = true;
  cfg.invalidation.redis = true;
  cfg.invalidation.audit = true;
  cfg.invalidation.keepalive = 100ms;
  cfg.invalidation.backoff_max = 200ms;
  return cfg;
}

TEST_F(RedisClusterTier, ChangesOnOneCacheReachTheOthersL1) {
  auto a = std::make_unique<node>(cluster_node_config(cluster.url(), "node-a"));
  ASSERT_TRUE(a->ok()) << a->error();
  auto b = std::make_unique<node>(cluster_node_config(cluster.url(1), "node-b"));
  ASSERT_TRUE(b->ok()) << b->error();
  ASSERT_TRUE(eventually([&] { return a->bridge().redis_subscribed; }, 10s));
  ASSERT_TRUE(eventually([&] { return b->bridge().redis_subscribed; }, 10s));
  for (auto& key : numbered("shared:", 12)) {
    ASSERT_TRUE(eventually([&] { return static_cast<bool>(a->client().set(key, bytes{"v1"})); }));
    ASSERT_TRUE(b->client().get(key));
    ASSERT_EQ(b->in_l1(key), "v1") << key;
    EXPECT_EQ(stored(key), "v1");
    // A set on A removes B's copy; B reads the new value from the cluster.
    ASSERT_TRUE(a->client().set(key, bytes{"v2"}));
    EXPECT_TRUE(eventually([&] { return b->in_l1(key) != std::optional<std::string>{"v1"}; }))
        << key;
    EXPECT_EQ(b->client().get(key)->value.str(), "v2");
  }
  ASSERT_TRUE(a->client().call<write_ack>(update_atom::value, std::string{"shared:0"},
                                          bytes{"pushed"}, caf::timespan{30s}));
  EXPECT_TRUE(
      eventually([&] { return b->in_l1("shared:0") == std::optional<std::string>{"pushed"}; }));
  auto removed = a->client().remove_matching("shared:*");
  ASSERT_TRUE(removed) << a->sys().render(removed.error());
  EXPECT_TRUE(eventually([&] { return b->l1_size() == 0; }));
  for (auto& keys : cluster.on_primaries({"KEYS", "shared:*"}))
    EXPECT_EQ(keys, "");
}

} // namespace

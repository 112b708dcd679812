#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

#include "mtcache/codec/detail/prometheus_text.hpp"

using namespace mtcache;
using namespace mtcache::detail;

namespace {

bool contains(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
    ++n;
  return n;
}

cache_snapshot two_tier_cache(const std::string& name) {
  cache_snapshot c;
  c.name = name;
  c.cache.tier_hits = {90, 6};
  c.cache.invalidated = {4, 0};
  c.cache.misses = 3;
  c.cache.stale_served = 1;
  c.cache.sets = 12;
  c.cache.loads = 5;
  c.cache.load_errors = 1;
  c.cache.load_timeouts = 1;
  c.cache.promotions_by_pair = {0, 0, 4, 0}; // from chain index 1 into 0
  c.cache.load_success.counts.assign(latency_bounds_ns.size() + 1, 0);
  c.cache.load_success.counts[0] = 2; // <= 25 us
  c.cache.load_success.counts[5] = 1; // <= 1 ms
  c.cache.load_success.sum_ns = 1'000'000;
  tier_stats l1;
  l1.level = 1;
  l1.kind = "memory";
  l1.size = 40;
  l1.weight = 4096;
  l1.evictions = 7;
  l1.expirations = 5;
  l1.idle_expirations = 2;
  tier_stats l2;
  l2.level = 2;
  l2.kind = "redis";
  l2.connected = false;
  backend_op_stats get;
  get.op = "get";
  get.errors = 3;
  l2.ops = {get};
  c.tiers = {l2, l1}; // tiers answer in any order
  return c;
}

} // namespace

TEST(PrometheusText, GetsByResultWithHitsPerTierLevel) {
  auto text = render_prometheus({two_tier_cache("orders")});
  EXPECT_TRUE(contains(text, R"(mtcache_gets_total{cache="orders",result="hit",tier="1"} 90)"));
  EXPECT_TRUE(contains(text, R"(mtcache_gets_total{cache="orders",result="hit",tier="2"} 6)"));
  EXPECT_TRUE(contains(text, R"(mtcache_gets_total{cache="orders",result="miss"} 3)"));
  EXPECT_TRUE(contains(text, R"(mtcache_gets_total{cache="orders",result="stale"} 1)"));
  EXPECT_TRUE(contains(text, R"(mtcache_puts_total{cache="orders"} 12)"));
  EXPECT_TRUE(
      contains(text, R"(mtcache_promotions_total{cache="orders",from_tier="2",to_tier="1"} 4)"));
}

TEST(PrometheusText, LoadsByOutcomeWithCumulativeHistogram) {
  auto text = render_prometheus({two_tier_cache("c")});
  EXPECT_TRUE(contains(text, R"(mtcache_loads_total{cache="c",result="success"} 3)"));
  EXPECT_TRUE(contains(text, R"(mtcache_loads_total{cache="c",result="failure"} 1)"));
  EXPECT_TRUE(contains(text, R"(mtcache_loads_total{cache="c",result="timeout"} 1)"));
  auto bucket = [](const char* le) {
    return std::string{R"(mtcache_load_duration_seconds_bucket{cache="c",result="success",le=")"} +
           le + "\"}";
  };
  EXPECT_TRUE(contains(text, bucket("2.5e-05") + " 2"));
  EXPECT_TRUE(contains(text, bucket("0.0005") + " 2"));
  EXPECT_TRUE(contains(text, bucket("0.001") + " 3"));
  EXPECT_TRUE(contains(text, bucket("+Inf") + " 3"));
  EXPECT_TRUE(
      contains(text, R"(mtcache_load_duration_seconds_sum{cache="c",result="success"} 0.001)"));
  EXPECT_TRUE(
      contains(text, R"(mtcache_load_duration_seconds_count{cache="c",result="success"} 3)"));
  // Nothing observed yet still renders every bucket at zero.
  EXPECT_TRUE(
      contains(text, R"(mtcache_load_duration_seconds_count{cache="c",result="timeout"} 0)"));
}

TEST(PrometheusText, LocalTiersReportSizeAndEvictionsByCause) {
  auto text = render_prometheus({two_tier_cache("c")});
  EXPECT_TRUE(contains(text, R"(mtcache_tier_entries{cache="c",tier="1",backend="memory"} 40)"));
  EXPECT_TRUE(
      contains(text, R"(mtcache_tier_weight_bytes{cache="c",tier="1",backend="memory"} 4096)"));
  EXPECT_TRUE(contains(
      text, R"(mtcache_evictions_total{cache="c",tier="1",backend="memory",cause="size"} 7)"));
  EXPECT_TRUE(contains(
      text, R"(mtcache_evictions_total{cache="c",tier="1",backend="memory",cause="expired"} 3)"));
  EXPECT_TRUE(contains(
      text, R"(mtcache_evictions_total{cache="c",tier="1",backend="memory",cause="idle"} 2)"));
  EXPECT_TRUE(contains(
      text,
      R"(mtcache_evictions_total{cache="c",tier="1",backend="memory",cause="invalidated"} 4)"));
  // Redis holds its entries elsewhere: no size for it, but its link and its commands.
  EXPECT_EQ(text.find(R"(mtcache_tier_entries{cache="c",tier="2")"), std::string::npos);
  EXPECT_TRUE(contains(text, R"(mtcache_tier_up{cache="c",tier="2",backend="redis"} 0)"));
  EXPECT_TRUE(contains(
      text, R"(mtcache_backend_errors_total{cache="c",tier="2",backend="redis",op="get"} 3)"));
  EXPECT_TRUE(contains(
      text,
      R"(mtcache_backend_request_duration_seconds_count{cache="c",tier="2",backend="redis",op="get"} 0)"));
}

TEST(PrometheusText, SeveralCachesShareEachFamilyHeader) {
  auto text = render_prometheus({two_tier_cache("a"), two_tier_cache("b")});
  EXPECT_EQ(count(text, "# TYPE mtcache_gets_total counter\n"), 1u);
  EXPECT_TRUE(contains(text, R"(mtcache_puts_total{cache="a"} 12)"));
  EXPECT_TRUE(contains(text, R"(mtcache_puts_total{cache="b"} 12)"));
  // Samples of one family sit together, after its header.
  auto header = text.find("# TYPE mtcache_puts_total");
  auto next_family = text.find("# HELP", header);
  EXPECT_LT(text.find(R"(mtcache_puts_total{cache="b"})"), next_family);
}

TEST(PrometheusText, InvalidationFamiliesOnlyWithABridge) {
  auto without = render_prometheus({two_tier_cache("a")});
  EXPECT_EQ(without.find("mtcache_invalidations_received_total"), std::string::npos);
  auto c = two_tier_cache("a");
  c.has_bridge = true;
  c.bridge.received_redis = 4;
  c.bridge.received_peers = 2;
  c.bridge.replayed = 1;
  c.bridge.published_redis = 9;
  c.bridge.flushes_gap = 1;
  c.bridge.recoveries = 3;
  c.bridge.recoveries_redis = 2;
  c.bridge.recoveries_peer = 1;
  auto with = render_prometheus({c});
  EXPECT_TRUE(contains(
      with,
      R"(mtcache_invalidations_received_total{cache="a",transport="redis",result="applied"} 4)"));
  EXPECT_TRUE(contains(
      with,
      R"(mtcache_invalidations_received_total{cache="a",transport="peer",result="applied"} 2)"));
  EXPECT_TRUE(contains(
      with,
      R"(mtcache_invalidations_received_total{cache="a",transport="replay",result="applied"} 1)"));
  EXPECT_TRUE(contains(with, R"(mtcache_invalidations_sent_total{cache="a",transport="redis"} 9)"));
  EXPECT_TRUE(contains(with, R"(mtcache_local_flushes_total{cache="a",reason="gap"} 1)"));
  EXPECT_TRUE(contains(with, R"(mtcache_recoveries_total{cache="a",reason="redis"} 2)"));
  EXPECT_TRUE(contains(with, R"(mtcache_recoveries_total{cache="a",reason="peer"} 1)"));
}

TEST(PrometheusText, ClusterNodesOnlyForATierOverACluster) {
  auto without = render_prometheus({two_tier_cache("a")});
  EXPECT_EQ(without.find("mtcache_cluster_"), std::string::npos);
  auto c = two_tier_cache("a");
  auto& l2 = c.tiers[0];
  l2.nodes = {node_stats{"127.0.0.1:7000", "primary", "0-5460", true, 0, 0, 3, 1},
              node_stats{"127.0.0.1:7003", "node", "", false, 2, 0, 0, 0}};
  l2.topology.refreshes = 5;
  l2.topology.failovers = 1;
  auto with = render_prometheus({c});
  EXPECT_TRUE(contains(
      with,
      R"(mtcache_cluster_node_up{cache="a",tier="2",backend="redis",node="127.0.0.1:7000"} 1)"));
  EXPECT_TRUE(contains(
      with,
      R"(mtcache_cluster_node_up{cache="a",tier="2",backend="redis",node="127.0.0.1:7003"} 0)"));
  EXPECT_TRUE(contains(
      with,
      R"(mtcache_cluster_node_primary{cache="a",tier="2",backend="redis",node="127.0.0.1:7003"} 0)"));
  EXPECT_TRUE(contains(
      with,
      R"(mtcache_cluster_redirects_total{cache="a",tier="2",backend="redis",node="127.0.0.1:7000",kind="moved"} 3)"));
  EXPECT_TRUE(contains(
      with,
      R"(mtcache_cluster_redirects_total{cache="a",tier="2",backend="redis",node="127.0.0.1:7000",kind="ask"} 1)"));
  EXPECT_TRUE(contains(
      with,
      R"(mtcache_cluster_topology_events_total{cache="a",tier="2",backend="redis",event="failover"} 1)"));
  EXPECT_EQ(count(with, "mtcache_cluster_topology_events_total{"), 3u);
}

TEST(PrometheusText, LabelValuesAreEscaped) {
  std::string out;
  write_label_value(out, "a\"b\\c\nd");
  EXPECT_EQ(out, R"(a\"b\\c\nd)");
  auto text = render_prometheus({two_tier_cache("we\"ird")});
  EXPECT_TRUE(contains(text, R"(mtcache_puts_total{cache="we\"ird"} 12)"));
}

TEST(PrometheusText, PromtoolAcceptsTheExposition) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "promtool not installed (Debian package prometheus; scripts/setup)";
  auto c = two_tier_cache("a");
  c.has_bridge = true;
  c.tiers[0].nodes = {node_stats{"127.0.0.1:7000", "primary", "0-16383", true, 0, 0, 1, 1}};
  auto text = render_prometheus({c, two_tier_cache("b")});
  char path[] = "/tmp/mtcache_promtoolXXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream{path} << text;
  auto cmd = std::string{"promtool check metrics < "} + path + " > " + path + ".out 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream report{std::string{path} + ".out"};
  std::string findings{std::istreambuf_iterator<char>{report}, {}};
  std::remove(path);
  std::remove((std::string{path} + ".out").c_str());
  EXPECT_EQ(rc, 0) << findings;
  EXPECT_EQ(findings, "");
}

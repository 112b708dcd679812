// mtcache-cli as an operator runs it: against a node's /metrics and a real redis-server.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include <caf/scoped_actor.hpp>

#include "mtcache/runtime/blocking_client.hpp"
#include "mtcache/runtime/metrics.hpp"
#include "mtcache/runtime/spawn_cache.hpp"
#include "support/actor_system_fixture.hpp"
#include "support/redis_server.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using mtcache::testing::eventually;

namespace {

struct run_result {
  int code = -1;
  std::string out;
};

// Runs the CLI with `args` (shell words), stdout and stderr together.
run_result cli(const std::string& args) {
  run_result r;
  auto cmd = std::string{MTCACHE_CLI} + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p)
    return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
    r.out.append(buf.data(), n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class Cli : public mtcache::testing::actor_system_fixture {};

} // namespace

TEST_F(Cli, WrongCommandLinesExitWithTwo) {
  EXPECT_EQ(cli("").code, 2);
  EXPECT_EQ(cli("frobnicate").code, 2);
  EXPECT_EQ(cli("stats").code, 2);
  EXPECT_EQ(cli("invalidate --timeout-ms x k").code, 2);
  EXPECT_EQ(cli("--help").code, 0);
}

TEST_F(Cli, UnreachableTargetsExitWithOne) {
  auto port = mtcache::testing::free_loopback_port();
  auto r = cli("stats http://127.0.0.1:" + std::to_string(port) + " --timeout-ms 1000");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("backend_unavailable"), std::string::npos) << r.out;
  r = cli("invalidate k --redis redis://127.0.0.1:" + std::to_string(port) + " --timeout-ms 1000");
  EXPECT_EQ(r.code, 1) << r.out;
}

TEST_F(Cli, StatsSummarisesANode) {
  auto cfg = cache_config::embedded();
  cfg.name = "shop";
  cfg.metrics.enabled = true;
  cfg.metrics.port = 0;
  auto cache = spawn_cache(sys, cfg);
  ASSERT_TRUE(cache) << sys.render(cache.error());
  {
    blocking_cache client{sys, *cache, 5s};
    ASSERT_TRUE(client.set("k", bytes{"v"}));
    ASSERT_TRUE(client.get("k"));
    auto r = cli("stats http://127.0.0.1:" + std::to_string(metrics_port(sys)));
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("cache shop"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("hit ratio 100.0%"), std::string::npos) << r.out;
    r = cli("stats --raw http://127.0.0.1:" + std::to_string(metrics_port(sys)) + "/metrics");
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("# TYPE mtcache_gets_total counter"), std::string::npos);
    r = cli("stats http://127.0.0.1:" + std::to_string(metrics_port(sys)) + "/nope");
    EXPECT_EQ(r.code, 1) << r.out;
  }
  stop_cache(*cache);
}

TEST_F(Cli, InvalidateAndUpdateReachASubscribedNode) {
  mtcache::testing::redis_server redis;
  ASSERT_TRUE(redis.start()) << redis.error();
  auto cfg = cache_config::embedded();
  cfg.invalidation.redis = true;
  cfg.invalidation.redis_url = redis.url();
  cfg.invalidation.secret = "s3cret";
  auto cache = spawn_cache(sys, cfg);
  ASSERT_TRUE(cache) << sys.render(cache.error());
  {
    blocking_cache client{sys, *cache, 5s};
    ASSERT_TRUE(client.set("gone", bytes{"v"}));
    auto redis_arg = " --redis " + redis.url() + " --secret s3cret";
    // Wait for the subscription: PUBLISH reports how many subscribers got the message.
    ASSERT_TRUE(eventually([&] {
      return redis.command({"PUBSUB", "NUMSUB", "cache:invalidate"}) == "cache:invalidate\n1";
    }));
    auto r = cli("invalidate gone" + redis_arg);
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("to 1 subscriber"), std::string::npos) << r.out;
    EXPECT_TRUE(eventually([&] {
      auto x = client.get("gone");
      return x && !x->found;
    }));
    r = cli("update fresh hello --ttl-ms 60000" + redis_arg);
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(eventually([&] {
      auto x = client.get("fresh");
      return x && x->found && x->value.str() == "hello";
    }));
    // Unsigned while the node wants signatures: published, but the node drops it.
    ASSERT_TRUE(client.set("kept", bytes{"v"}));
    r = cli("invalidate kept --redis " + redis.url());
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(eventually([&] {
      caf::scoped_actor self{sys};
      uint64_t rejected = 0;
      self->request(*cache, 1s, stats_atom::value, invalidate_atom::value)
          .receive([&](const bridge_stats& s) { rejected = s.rejected_signature; },
                   [](caf::error&) {});
      return rejected >= 1;
    }));
    auto kept = client.get("kept");
    ASSERT_TRUE(kept);
    EXPECT_TRUE(kept->found);
  }
  stop_cache(*cache);
}

TEST_F(Cli, TailFollowsTheAuditStream) {
  mtcache::testing::redis_server redis;
  ASSERT_TRUE(redis.start()) << redis.error();
  redis.command({"XADD", "cache:invalidations", "*", "type", "remove", "key", "a"});
  auto r = cli("tail --from 0 --count 1 --redis " + redis.url());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("type=remove key=a"), std::string::npos) << r.out;
}

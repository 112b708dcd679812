#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "mtcache/messages/error.hpp"
#include "support/child_process.hpp"
#include "support/redis_server.hpp"
#include "support/two_nodes.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using mtcache::testing::eventually;
using mtcache::testing::node;

namespace {

cache_config linked_config(const std::string& id) {
  cache_config cfg = cache_config::embedded();
  cfg.node_id = id;
  cfg.invalidation.backoff_initial = 20ms;
  cfg.invalidation.backoff_max = 100ms;
  return cfg;
}

cache_config listening(const std::string& id) {
  auto cfg = linked_config(id);
  cfg.invalidation.listen = true;
  return cfg;
}

cache_config linking_to(const std::string& id, uint16_t port) {
  auto cfg = linked_config(id);
  cfg.invalidation.peers.push_back("127.0.0.1:" + std::to_string(port));
  return cfg;
}

uint16_t listen_port(node& n) {
  uint16_t port = 0;
  eventually([&] { return (port = n.bridge().listen_port) != 0; });
  return port;
}

TEST(PeerLink, NodesInvalidateEachOtherOverCafWithoutRedis) {
  node a{listening("a")};
  ASSERT_TRUE(a.ok()) << a.error();
  auto port = listen_port(a);
  ASSERT_NE(port, 0);
  node b{linking_to("b", port)};
  ASSERT_TRUE(b.ok()) << b.error();
  ASSERT_TRUE(eventually([&] { return a.bridge().peers_connected == 1; }));
  ASSERT_TRUE(eventually([&] { return b.bridge().peers_connected == 1; }));
  ASSERT_TRUE(b.client().set("k", bytes{"b's copy"}));
  ASSERT_TRUE(a.client().call<write_ack>(invalidate_atom::value, std::string{"k"}));
  EXPECT_TRUE(eventually([&] { return !b.in_l1("k"); }));
  // And back: the link carries changes both ways although only B was configured.
  ASSERT_TRUE(a.client().set("j", bytes{"a's copy"}));
  ASSERT_TRUE(b.client().call<write_ack>(update_atom::value, std::string{"j"}, bytes{"from b"},
                                         caf::timespan{1min}));
  EXPECT_TRUE(eventually([&] { return a.in_l1("j") == std::optional<std::string>{"from b"}; }));
  EXPECT_EQ(a.bridge().received, 1u);
  EXPECT_EQ(b.bridge().received, 1u);
}

TEST(PeerLink, LostPeerIsRetriedAndTheReconnectRunsRecovery) {
  node a{listening("a")};
  ASSERT_TRUE(a.ok());
  auto port = listen_port(a);
  auto b = std::make_unique<node>(linking_to("b", port));
  ASSERT_TRUE(eventually([&] { return a.bridge().peers_connected == 1; }));
  b.reset();
  ASSERT_TRUE(eventually([&] { return a.bridge().peers_connected == 0; }));
  ASSERT_TRUE(a.client().set("cached", bytes{"maybe stale now"}));
  auto b2 = std::make_unique<node>(linking_to("b2", port));
  ASSERT_TRUE(eventually([&] { return a.bridge().recoveries == 1; }));
  EXPECT_TRUE(eventually([&] { return !a.in_l1("cached"); }));
  EXPECT_EQ(a.bridge().peer_reconnects, 1u);
  EXPECT_EQ(a.bridge().recoveries_peer, 1u);
}

TEST(PeerLink, LinkingSideReconnectsWhenThePeerComesBack) {
  auto a = std::make_unique<node>(listening("a"));
  auto port = listen_port(*a);
  auto a_cfg = listening("a-again");
  a_cfg.invalidation.listen_port = port;
  node b{linking_to("b", port)};
  ASSERT_TRUE(eventually([&] { return b.bridge().peers_connected == 1; }));
  ASSERT_TRUE(b.client().set("k", bytes{"v"}));
  a.reset();
  ASSERT_TRUE(eventually([&] { return b.bridge().peers_connected == 0; }));
  a = std::make_unique<node>(a_cfg);
  ASSERT_TRUE(a->ok()) << a->error();
  EXPECT_TRUE(eventually([&] { return b.bridge().peers_connected == 1; }, 10s));
  EXPECT_TRUE(eventually([&] { return b.bridge().recoveries == 1; }));
  // The recovery is counted when the flush is sent; the memory tier applies it a moment later.
  EXPECT_TRUE(eventually([&] { return !b.in_l1("k"); }));
  ASSERT_TRUE(b.client().set("k2", bytes{"v"}));
  ASSERT_TRUE(a->client().call<write_ack>(invalidate_atom::value, std::string{"k2"}));
  EXPECT_TRUE(eventually([&] { return !b.in_l1("k2"); }));
}

TEST(PeerLink, TwoProcessesInvalidateEachOther) {
  node a{listening("this-process")};
  ASSERT_TRUE(a.ok());
  auto port = listen_port(a);
  mtcache::testing::child_process other;
  ASSERT_TRUE(other.start({MTCACHE_INVALIDATION_EXAMPLE, "--peer",
                           "127.0.0.1:" + std::to_string(port), "--name", "other-process"}));
  auto ready = other.read_line(10s);
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->rfind("ready", 0), 0u) << *ready;
  ASSERT_TRUE(eventually([&] { return a.bridge().peers_connected == 1; }));
  other.write_line("set k theirs");
  ASSERT_EQ(other.read_line(), std::optional<std::string>{"ok"});
  ASSERT_TRUE(a.client().call<write_ack>(invalidate_atom::value, std::string{"k"}));
  EXPECT_TRUE(eventually([&] {
    other.write_line("get k");
    return other.read_line() == std::optional<std::string>{"miss"};
  }));
  ASSERT_TRUE(a.client().set("j", bytes{"ours"}));
  other.write_line("invalidate j");
  ASSERT_EQ(other.read_line(), std::optional<std::string>{"ok"});
  EXPECT_TRUE(eventually([&] { return !a.in_l1("j"); }));
  other.write_line("quit");
}

TEST(PeerLink, RedisAndCafTogetherApplyEachChangeOnce) {
  mtcache::testing::redis_server redis;
  ASSERT_TRUE(redis.start()) << redis.error();
  auto a_cfg = mtcache::testing::redis_node_config(redis, "a");
  a_cfg.invalidation.listen = true;
  node a{a_cfg};
  ASSERT_TRUE(a.ok()) << a.error();
  auto b_cfg = mtcache::testing::redis_node_config(redis, "b");
  b_cfg.invalidation.peers.push_back("127.0.0.1:" + std::to_string(listen_port(a)));
  node b{b_cfg};
  ASSERT_TRUE(b.ok()) << b.error();
  ASSERT_TRUE(eventually([&] {
    auto s = b.bridge();
    return s.peers_connected == 1 && s.redis_subscribed;
  }));
  ASSERT_TRUE(eventually([&] { return a.bridge().redis_subscribed; }));
  ASSERT_TRUE(a.client().call<write_ack>(invalidate_atom::value, std::string{"k"}));
  EXPECT_TRUE(eventually([&] {
    auto s = b.bridge();
    return s.received == 1 && s.duplicates == 1;
  }));
}

// Certificates made for the test with the openssl command: a CA, two nodes it signed, and a
// rogue node signed by nobody.
class TlsFiles {
public:
  TlsFiles() {
    char tmpl[] = "/tmp/mtcache-tls-XXXXXX";
    dir_ = mkdtemp(tmpl);
    run("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 "
        "-subj /CN=mtcache-test-ca");
    for (auto name : {"a", "b"}) {
      run(std::string{"openssl req -newkey rsa:2048 -nodes -keyout "} + name + ".key -out " + name +
          ".csr -subj /CN=" + name);
      run(std::string{"openssl x509 -req -in "} + name + ".csr -CA ca.pem -CAkey ca.key " +
          "-CAcreateserial -out " + name + ".pem -days 1");
    }
    run("openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.pem -days 1 "
        "-subj /CN=rogue");
  }

  ~TlsFiles() { std::system(("rm -rf " + dir_).c_str()); }

  bool ok() const { return ok_; }

  tls_files node(const std::string& name, bool signed_by_ca = true) const {
    auto base = dir_ + "/" + (signed_by_ca ? name : std::string{"rogue"});
    return {base + ".pem", base + ".key", "", dir_ + "/ca.pem"};
  }

private:
  void run(const std::string& cmd) {
    ok_ = ok_ && std::system(("cd " + dir_ + " && " + cmd + " >/dev/null 2>&1").c_str()) == 0;
  }

  std::string dir_;
  bool ok_ = true;
};

TEST(PeerLink, TlsLinksCarryInvalidationsAndRefuseStrangers) {
  TlsFiles certs;
  ASSERT_TRUE(certs.ok()) << "the openssl command failed";
  auto a_cfg = listening("a");
  a_cfg.invalidation.tls = true;
  node a{a_cfg, certs.node("a")};
  ASSERT_TRUE(a.ok()) << a.error();
  auto port = listen_port(a);
  ASSERT_NE(port, 0);
  auto b_cfg = linking_to("b", port);
  b_cfg.invalidation.tls = true;
  node b{b_cfg, certs.node("b")};
  ASSERT_TRUE(b.ok()) << b.error();
  ASSERT_TRUE(eventually([&] { return b.bridge().peers_connected == 1; }, 10s));
  ASSERT_TRUE(b.client().set("k", bytes{"v"}));
  ASSERT_TRUE(a.client().call<write_ack>(invalidate_atom::value, std::string{"k"}));
  EXPECT_TRUE(eventually([&] { return !b.in_l1("k"); }));
  // A plain link and a certificate the CA did not sign both stay out.
  node plain{linking_to("plain", port)};
  auto rogue_cfg = linking_to("rogue", port);
  rogue_cfg.invalidation.tls = true;
  node rogue{rogue_cfg, certs.node("rogue", false)};
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(plain.bridge().peers_connected, 0u);
  EXPECT_EQ(rogue.bridge().peers_connected, 0u);
  EXPECT_EQ(a.bridge().peers_connected, 1u);
}

TEST(PeerLink, TlsWithoutTheModuleIsNotConfigured) {
  auto cfg = listening("x");
  cfg.invalidation.tls = true;
  node n{cfg};
  EXPECT_FALSE(n.ok());
  EXPECT_NE(n.error().find("not_configured"), std::string::npos) << n.error();
}

TEST(PeerLink, MalformedPeerAddressIsRejected) {
  auto cfg = linked_config("x");
  cfg.invalidation.peers.push_back("no-port-here");
  caf::actor_system_config sys_cfg;
  add_message_types(sys_cfg);
  sys_cfg.load<caf::io::middleman>();
  caf::actor_system sys{sys_cfg};
  auto res = spawn_cache(sys, cfg);
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::invalid_config));
}

} // namespace

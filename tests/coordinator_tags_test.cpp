// Tags and clear (actors/detail/coordinator_tags.cpp) on real nodes sharing one redis-server:
// values written with tags, removed by tag on every node and tier, a removal that outlives
// a node, loader-chosen tags, and a clear of the whole cache.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mtcache/actors/callable_loader.hpp"
#include "mtcache/codec/tagged_value.hpp"
#include "mtcache/messages/error.hpp"
#include "support/two_nodes.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using mtcache::testing::eventually;
using mtcache::testing::node;
using mtcache::testing::redis_node_config;

namespace {

class CoordinatorTags : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_TRUE(redis.start()) << redis.error(); }

  std::unique_ptr<node> start(const std::string& id) {
    auto n = std::make_unique<node>(redis_node_config(redis, id));
    EXPECT_TRUE(n->ok()) << n->error();
    EXPECT_TRUE(eventually([&] { return n->bridge().redis_subscribed; }));
    return n;
  }

  void start_two() {
    a = start("node-a");
    b = start("node-b");
  }

  void set(node& n, const std::string& key, const std::string& value,
           std::vector<std::string> tags) {
    auto ack = n.client().set(key, bytes{value}, strategy::long_term(), std::move(tags));
    ASSERT_TRUE(ack) << n.sys().render(ack.error());
  }

  bool found(node& n, const std::string& key) {
    auto res = n.client().get(key);
    return res && res->found;
  }

  mtcache::testing::redis_server redis;
  std::unique_ptr<node> a;
  std::unique_ptr<node> b;
};

TEST_F(CoordinatorTags, ReadsHandBackThePayloadAndItsTags) {
  start_two();
  set(*a, "k", "v", {"user:1", "page"});
  for (auto* n : {a.get(), b.get()}) {
    auto res = n->client().get("k");
    ASSERT_TRUE(res && res->found);
    EXPECT_EQ(res->value.view(), "v");
    EXPECT_EQ(res->tags, (std::vector<std::string>{"user:1", "page"}));
    EXPECT_GT(res->created_us, 0);
  }
  ASSERT_EQ(b->in_l1("k"), std::optional<std::string>{"v"}) << "promoted with its tags";
  auto l1 = b->client().view().get("k");
  ASSERT_TRUE(l1) << "the read view serves values with tags";
  EXPECT_EQ(l1->value.view(), "v");
  EXPECT_EQ(l1->tags, (std::vector<std::string>{"user:1", "page"}));
}

TEST_F(CoordinatorTags, RemoveByTagReachesEveryTierOfEveryNode) {
  start_two();
  for (int i = 0; i < 50; ++i)
    set(*a, "t" + std::to_string(i), "v", {i % 2 == 0 ? "even" : "odd", "all"});
  ASSERT_TRUE(a->client().set("plain", bytes{"p"}));
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(found(*b, "t" + std::to_string(i)));
  ASSERT_TRUE(b->in_l1("t0"));
  auto ack = a->client().remove_by_tag("even");
  ASSERT_TRUE(ack) << a->sys().render(ack.error());
  EXPECT_EQ(ack->written, 2u) << "L1 by the clock, Redis with the tag's time";
  for (int i = 0; i < 50; i += 2)
    EXPECT_FALSE(found(*a, "t" + std::to_string(i))) << i;
  EXPECT_TRUE(eventually([&] { return !found(*b, "t0"); }));
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(found(*b, "t" + std::to_string(i)), i % 2 == 1) << i;
  EXPECT_TRUE(found(*b, "plain"));
  EXPECT_EQ(b->client().stats()->tag_removals, 1u);
  EXPECT_EQ(b->bridge().received_tags, 1u);
  // A value written with the tag after its removal is there.
  set(*a, "t0", "again", {"even"});
  auto res = b->client().get("t0");
  ASSERT_TRUE(res && res->found);
  EXPECT_EQ(res->value.view(), "again");
}

TEST_F(CoordinatorTags, ABroadcastWriteCarriesItsTagsToTheOtherNodes) {
  auto cfg = redis_node_config(redis, "node-a");
  cfg.options.broadcast_on_write = true;
  a = std::make_unique<node>(cfg);
  ASSERT_TRUE(a->ok()) << a->error();
  b = start("node-b");
  ASSERT_TRUE(eventually([&] { return a->bridge().redis_subscribed; }));
  ASSERT_TRUE(a->client().set("k", bytes{"old"}));
  ASSERT_TRUE(found(*b, "k"));
  set(*a, "k", "new", {"t"});
  ASSERT_TRUE(eventually([&] { return b->in_l1("k") == std::optional<std::string>{"new"}; }));
  auto res = b->client().get("k");
  ASSERT_TRUE(res && res->found);
  EXPECT_EQ(res->tags, std::vector<std::string>{"t"});
  ASSERT_TRUE(a->client().remove_by_tag("t"));
  EXPECT_TRUE(eventually([&] { return !found(*b, "k"); }));
}

TEST_F(CoordinatorTags, BulkReadsHonourTagRemovals) {
  start_two();
  set(*a, "x", "1", {"gone"});
  set(*a, "y", "2", {"kept"});
  ASSERT_TRUE(found(*b, "x"));
  ASSERT_TRUE(a->client().remove_by_tag("gone"));
  ASSERT_TRUE(eventually([&] { return b->bridge().received_tags == 1; }));
  for (auto* n : {a.get(), b.get()}) {
    auto many = n->client().get_many({"x", "y"});
    ASSERT_TRUE(many);
    ASSERT_EQ(many->results.size(), 2u);
    EXPECT_FALSE(many->results[0].found);
    ASSERT_TRUE(many->results[1].found);
    EXPECT_EQ(many->results[1].value.view(), "2");
  }
}

TEST_F(CoordinatorTags, ARemovalOutlivesTheNodesThatSawIt) {
  a = start("node-a");
  set(*a, "k", "v", {"t"});
  set(*a, "other", "w", {"u"});
  ASSERT_TRUE(a->client().remove_by_tag("t"));
  a.reset();
  EXPECT_NE(redis.command({"GET", tag_time_key("t")}), "(nil)") << "the shared tier keeps the time";
  EXPECT_NE(redis.command({"GET", "k"}), "(nil)") << "removal by tag deletes nothing";
  auto fresh = start("node-c");
  EXPECT_FALSE(found(*fresh, "k")) << "a node that never heard of the removal honours it";
  auto other = fresh->client().get("other");
  ASSERT_TRUE(other && other->found) << "a tag never removed is looked up once and kept";
  EXPECT_EQ(other->value.view(), "w");
  EXPECT_GE(fresh->client().stats()->tags_hidden, 1u);
}

TEST_F(CoordinatorTags, LoadersChooseTags) {
  start_two();
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto loader =
      spawn_callable_ttl_loader(a->sys(), [calls](const std::string& key) -> caf::expected<loaded> {
        ++*calls;
        return loaded{bytes{"loaded:" + key}, caf::timespan{0}, {"src:db"}};
      });
  auto res = a->client().get_or_compute("k", {strategy::long_term()}, loader);
  ASSERT_TRUE(res && res->found);
  EXPECT_EQ(res->tags, std::vector<std::string>{"src:db"});
  ASSERT_TRUE(found(*b, "k"));
  ASSERT_TRUE(a->client().get_or_compute("k", {strategy::long_term()}, loader));
  EXPECT_EQ(*calls, 1);
  ASSERT_TRUE(b->client().remove_by_tag("src:db"));
  ASSERT_TRUE(eventually([&] { return !found(*a, "k"); }));
  ASSERT_TRUE(a->client().get_or_compute("k", {strategy::long_term()}, loader));
  EXPECT_EQ(*calls, 2) << "loaded again after its tag was removed";
  auto bad = spawn_callable_ttl_loader(a->sys(), [](const std::string&) -> caf::expected<loaded> {
    return loaded{bytes{"v"}, caf::timespan{0}, {""}};
  });
  auto failed = a->client().get_or_compute("bad", {strategy::long_term()}, bad);
  EXPECT_FALSE(failed) << "an empty tag fails the load";
  caf::anon_send_exit(loader, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(bad, caf::exit_reason::user_shutdown);
}

TEST_F(CoordinatorTags, BulkLoadersChooseTags) {
  start_two();
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto loader = spawn_callable_bulk_loader(
      a->sys(),
      [calls](const std::vector<std::string>& keys) -> caf::expected<std::vector<bulk_entry>> {
        ++*calls;
        std::vector<bulk_entry> out;
        for (auto& key : keys)
          out.push_back(bulk_entry::of(bytes{key}, caf::timespan{0}, {"batch:" + key}));
        return out;
      });
  auto first = a->client().get_or_compute_many({"p", "q"}, {strategy::long_term()}, loader);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->results.size(), 2u);
  EXPECT_EQ(first->results[1].tags, std::vector<std::string>{"batch:q"});
  ASSERT_TRUE(a->client().remove_by_tag("batch:q"));
  auto second = a->client().get_many({"p", "q"});
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->results[0].found);
  EXPECT_FALSE(second->results[1].found);
  EXPECT_EQ(*calls, 1);
  caf::anon_send_exit(loader, caf::exit_reason::user_shutdown);
}

TEST_F(CoordinatorTags, AValueThatLooksTaggedReadsBackExactly) {
  start_two();
  auto tricky = encode_tagged("inner", {"t"}, 1).str();
  ASSERT_TRUE(a->client().set("k", bytes{tricky}));
  for (auto* n : {a.get(), b.get()}) {
    auto res = n->client().get("k");
    ASSERT_TRUE(res && res->found);
    EXPECT_EQ(res->value.view(), tricky);
    EXPECT_TRUE(res->tags.empty());
  }
  ASSERT_TRUE(a->client().remove_by_tag("t"));
  EXPECT_TRUE(found(*b, "k")) << "its bytes carry no tags of the cache's";
}

TEST_F(CoordinatorTags, RemovalTimesExpireAfterTheRetention) {
  auto cfg = redis_node_config(redis, "node-a");
  cfg.options.tag_retention = 400ms;
  a = std::make_unique<node>(cfg);
  ASSERT_TRUE(a->ok()) << a->error();
  ASSERT_TRUE(a->client().remove_by_tag("t"));
  auto ttl = std::stoll(redis.command({"PTTL", tag_time_key("t")}));
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 400);
  EXPECT_TRUE(eventually([&] { return redis.command({"EXISTS", tag_time_key("t")}) == "0"; }));
  cfg.options.tag_retention = -1ms;
  EXPECT_TRUE(is(validate(cfg), errc::invalid_config));
}

TEST_F(CoordinatorTags, InvalidTagsAreRefused) {
  start_two();
  EXPECT_FALSE(a->client().set("k", bytes{"v"}, strategy::long_term(), {""}));
  EXPECT_FALSE(a->client().set("k", bytes{"v"}, strategy::long_term(),
                               {std::string(max_tag_bytes + 1, 't')}));
  EXPECT_FALSE(a->client().remove_by_tag(""));
  EXPECT_FALSE(a->client().set(tag_time_key("t"), bytes{"1"})) << "the tag times' namespace";
  EXPECT_FALSE(found(*a, "k"));
}

TEST_F(CoordinatorTags, ClearEmptiesEveryNode) {
  start_two();
  for (auto key : {"a", "b", "c"})
    ASSERT_TRUE(a->client().set(key, bytes{"v"}));
  for (auto key : {"a", "b", "c"})
    ASSERT_TRUE(found(*b, key));
  ASSERT_EQ(b->l1_size(), 3u);
  auto ack = a->client().clear();
  ASSERT_TRUE(ack) << a->sys().render(ack.error());
  EXPECT_EQ(ack->written, 2u);
  EXPECT_EQ(redis.command({"EXISTS", "a", "b", "c"}), "0");
  EXPECT_EQ(a->l1_size(), 0u);
  EXPECT_TRUE(eventually([&] { return b->l1_size() == 0; }));
  EXPECT_FALSE(found(*b, "a"));
  EXPECT_EQ(b->bridge().received_clears, 1u);
}

} // namespace

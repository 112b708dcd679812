// The Redis tier's side of tracking (actors/detail/redis_tier_tracking.cpp), against a real
// redis-server: CLIENT TRACKING in broadcast mode redirected to a given client, own writes
// left out, and tracking turned on again after the connection is lost.
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <caf/scoped_actor.hpp>
#include <hiredis/hiredis.h>

#include "mtcache/actors/redis_tier.hpp"
#include "mtcache/messages/detail/bridge_protocol.hpp"
#include "support/actor_system_fixture.hpp"
#include "support/redis_server.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using mtcache::testing::eventually;

namespace {

// A connection subscribed to the tracking channel, as the node's subscriber is.
class redirect_target {
public:
  explicit redirect_target(uint16_t port) {
    c_ = redisConnect("127.0.0.1", port);
    auto* id = static_cast<redisReply*>(redisCommand(c_, "CLIENT ID"));
    id_ = static_cast<uint64_t>(id->integer);
    freeReplyObject(id);
    freeReplyObject(redisCommand(c_, "SUBSCRIBE __redis__:invalidate"));
    struct timeval tv {
      5, 0
    };
    redisSetTimeout(c_, tv);
  }
  ~redirect_target() { redisFree(c_); }

  uint64_t id() const { return id_; }

  // The keys of the next invalidation, or "(timeout)".
  std::string next() {
    void* raw = nullptr;
    if (redisGetReply(c_, &raw) != REDIS_OK || !raw)
      return "(timeout)";
    auto* r = static_cast<redisReply*>(raw);
    std::string out;
    auto* keys = r->element[2];
    for (size_t i = 0; keys->type == REDIS_REPLY_ARRAY && i < keys->elements; ++i)
      out += (i ? "," : "") + std::string{keys->element[i]->str, keys->element[i]->len};
    freeReplyObject(r);
    return out;
  }

private:
  redisContext* c_ = nullptr;
  uint64_t id_ = 0;
};

class RedisTierTracking : public mtcache::testing::actor_system_fixture {
protected:
  void SetUp() override {
    ASSERT_TRUE(redis.start()) << redis.error();
    redis_tier_config cfg;
    cfg.url = redis.url();
    cfg.request_timeout = 200ms;
    cfg.backoff_initial = 20ms;
    cfg.backoff_max = 100ms;
    cfg.key_prefix = "app:";
    auto spawned = spawn_redis_tier(sys, cfg, 2);
    ASSERT_TRUE(spawned) << sys.render(spawned.error());
    tier = *spawned;
    ASSERT_TRUE(eventually([&] { return put("warmup"); }));
  }

  bool put(const std::string& key) {
    bool ok = false;
    self->request(tier, 5s, put_atom::value, key, bytes{"v"}, caf::timespan{})
        .receive([&](ok_atom) { ok = true; }, [&](caf::error& e) { last = sys.render(e); });
    return ok;
  }

  void TearDown() override { caf::anon_send_exit(tier, caf::exit_reason::user_shutdown); }

  // Asks the tier to track for `target`; true once Redis took it.
  bool track(const redirect_target& target) {
    bool ok = false;
    self->request(caf::actor_cast<detail::tracking_tier_actor>(tier), 5s, track_atom::value,
                  target.id(), std::vector<std::string>{"app:"}, caf::actor{self})
        .receive([&](ok_atom) { ok = true; }, [&](caf::error&) {});
    return ok;
  }

  // The next (track, level, redirect, on) the tier tells its listener.
  std::string heard() {
    std::string out = "(nothing)";
    self->receive(
        [&](track_atom, uint32_t level, uint64_t redirect, bool on) {
          out = std::to_string(level) + "," + std::to_string(redirect) + (on ? ",on" : ",off");
        },
        caf::after(5s) >> [] {});
    return out;
  }

  std::string data_connection() {
    auto list = redis.command({"CLIENT", "LIST"});
    auto at = list.find("flags=tB");
    if (at == std::string::npos)
      return {};
    auto line = list.rfind('\n', at);
    auto id = list.find("id=", line == std::string::npos ? 0 : line);
    return list.substr(id + 3, list.find(' ', id) - id - 3);
  }

  mtcache::testing::redis_server redis;
  std::string last;
  caf::scoped_actor self{sys};
  batch_tier_actor tier;
};

TEST_F(RedisTierTracking, ReportsOtherClientsChangesUnderThePrefixOnly) {
  redirect_target target{redis.port()};
  ASSERT_TRUE(track(target));
  EXPECT_EQ(heard(), "2," + std::to_string(target.id()) + ",on");
  auto info = redis.command({"CLIENT", "LIST"});
  EXPECT_NE(info.find("redir=" + std::to_string(target.id())), std::string::npos) << info;
  ASSERT_TRUE(put("mine")) << last;
  redis.command({"SET", "other:x", "1"});
  redis.command({"SET", "app:x", "1"});
  EXPECT_EQ(target.next(), "app:x") << "own writes (NOLOOP) and other prefixes are not reported";
}

TEST_F(RedisTierTracking, ALostConnectionTracksAgainAndSaysSo) {
  redirect_target target{redis.port()};
  ASSERT_TRUE(track(target));
  auto id = std::to_string(target.id());
  ASSERT_EQ(heard(), "2," + id + ",on");
  auto data = data_connection();
  ASSERT_FALSE(data.empty());
  redis.command({"CLIENT", "KILL", "ID", data});
  EXPECT_EQ(heard(), "2," + id + ",off");
  EXPECT_EQ(heard(), "2," + id + ",on");
  EXPECT_NE(data_connection(), data);
  redis.command({"SET", "app:y", "1"});
  EXPECT_EQ(target.next(), "app:y");
}

TEST_F(RedisTierTracking, ARedirectToNoClientIsAnError) {
  bool failed = false;
  self->request(caf::actor_cast<detail::tracking_tier_actor>(tier), 5s, track_atom::value,
                uint64_t{999999}, std::vector<std::string>{}, caf::actor{self})
      .receive([](ok_atom) {}, [&](caf::error&) { failed = true; });
  EXPECT_TRUE(failed);
}

} // namespace

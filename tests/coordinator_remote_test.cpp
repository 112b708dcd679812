// Changes from elsewhere reaching the local tiers (actors/detail/coordinator_remote.cpp), on
// the deterministic test scheduler: a key Redis tracking invalidated while a read of it from
// the tier below was under way must not land in L1 with the value read.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <caf/actor_cast.hpp>

#include "mtcache/messages/detail/flight_protocol.hpp"
#include "support/coordinator_fixture.hpp"

using namespace mtcache;
using mtcache::testing::tier_log;

namespace {

class CoordinatorRemote : public mtcache::testing::coordinator_fixture {
protected:
  // Memory L1, and the recording tier as a shared L2 (as Redis is) whose every hit is
  // promoted.
  void SetUp() override {
    start(false, true, tier_config::as_l2().with_shared(true).with_promotion_frequency(1));
  }

  // What Redis tracking tells the coordinator through the bridge.
  void send_tracked(std::vector<std::string> keys) {
    self->send(caf::actor_cast<detail::coordinator_actor>(cache), track_atom::value,
               std::move(keys));
  }
};

TEST_F(CoordinatorRemote, TrackedChangeDuringAReadKeepsTheValueReadOutOfL1) {
  log->data = {{"k", "old"}};
  log->answer = tier_log::mode::hold;
  self->send(cache, get_atom::value, std::string{"k"});
  sched.run();
  ASSERT_EQ(log->held.size(), 1u) << "the read of k from L2 is under way";
  log->data["k"] = "new";
  send_tracked({"k"});
  sched.run();
  log->answer = tier_log::mode::store;
  release();
  auto first = answers<lookup>(1).at(0);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->value.view(), "old") << "the caller gets what was read";
  EXPECT_EQ(get("k").value.view(), "new") << "L1 did not keep it";
  EXPECT_EQ(stats().tracking_races, 1u);
}

TEST_F(CoordinatorRemote, TrackedKeysLeaveL1Only) {
  send_set("k", "v");
  ASSERT_TRUE(answers<write_ack>(1).at(0));
  send_tracked({"k", "never-cached"});
  sched.run();
  EXPECT_EQ(log->data["k"], "v") << "the shared tier is where the change happened";
  log->data["k"] = "changed";
  auto res = get("k");
  EXPECT_EQ(res.value.view(), "changed");
  EXPECT_EQ(res.level, 2u);
  auto s = stats();
  EXPECT_EQ(s.tracking_races, 0u);
  EXPECT_EQ(s.invalidated, (std::vector<uint64_t>{1, 0}))
      << "k left L1, never-cached was not there";
}

} // namespace

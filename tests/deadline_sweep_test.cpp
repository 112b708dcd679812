#include "mtcache/actors/detail/deadline_sweep.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/stateful_actor.hpp>

#include "mtcache/messages/atoms.hpp"
#include "mtcache/runtime/message_types.hpp"

using namespace mtcache;
using namespace mtcache::detail;
using namespace std::chrono_literals;

namespace {

// An owner of a sweep: (put, n) watches round n, (delete, n) finishes it; expired rounds go
// to the shared list.
struct owner_state {
  deadline_sweep sweep;
  std::map<int, std::shared_ptr<int>> rounds;
};

caf::behavior owner(caf::stateful_actor<owner_state>* self,
                    std::shared_ptr<std::vector<int>> expired) {
  self->state.sweep.set_timeout(1000ms);
  return {
      [=](put_atom, int n) {
        auto round = std::make_shared<int>(n);
        self->state.rounds[n] = round;
        self->state.sweep.watch(self, round, [expired, n] { expired->push_back(n); });
      },
      [=](delete_atom, int n) { self->state.rounds.erase(n); },
      [=](caf::tick_atom) { self->state.sweep.tick(self); },
  };
}

class DeadlineSweep : public ::testing::Test {
protected:
  static caf::actor_system_config& init(caf::actor_system_config& cfg) {
    add_message_types(cfg);
    cfg.set("scheduler.policy", caf::atom("testing"));
    return cfg;
  }

  void SetUp() override {
    actor = sys.spawn(owner, expired);
    sched.run();
  }

  void TearDown() override {
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
    sched.run();
  }

  void watch(int n) {
    caf::anon_send(actor, put_atom::value, n);
    sched.run();
  }

  void finish(int n) {
    caf::anon_send(actor, delete_atom::value, n);
    sched.run();
  }

  void advance(caf::timespan t) {
    sched.advance_time(t);
    sched.run();
  }

  caf::actor_system_config cfg;
  caf::actor_system sys{init(cfg)};
  caf::scheduler::test_coordinator& sched =
      dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  std::shared_ptr<std::vector<int>> expired = std::make_shared<std::vector<int>>();
  caf::actor actor;
};

} // namespace

TEST_F(DeadlineSweep, RoundStillRunningAtItsDeadlineExpires) {
  watch(1);
  advance(750ms);
  EXPECT_TRUE(expired->empty());
  advance(250ms);
  EXPECT_EQ(*expired, std::vector<int>{1});
}

TEST_F(DeadlineSweep, FinishedRoundDoesNotExpire) {
  watch(1);
  watch(2);
  finish(1);
  advance(2s);
  EXPECT_EQ(*expired, std::vector<int>{2});
}

// One timer for all deadlines, every timeout/4: a round expires at most a quarter late.
TEST_F(DeadlineSweep, ExpiresAtMostAQuarterOfTheTimeoutLate) {
  watch(1);
  advance(100ms);
  watch(2);
  advance(900ms);
  EXPECT_EQ(*expired, std::vector<int>{1});
  advance(250ms);
  EXPECT_EQ(*expired, (std::vector<int>{1, 2}));
}

TEST_F(DeadlineSweep, NoTimerRunsWithoutDeadlines) {
  EXPECT_FALSE(sched.has_pending_timeout());
  watch(1);
  EXPECT_TRUE(sched.has_pending_timeout());
  advance(1s);
  EXPECT_EQ(*expired, std::vector<int>{1});
  EXPECT_FALSE(sched.has_pending_timeout());
}

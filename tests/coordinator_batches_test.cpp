// How the coordinator batches sets and reads of a first tier that wants batches
// (actors/detail/tier_outbox.hpp, batch_queue.hpp), on the deterministic test scheduler:
// messages sent before `sched.run()` sit in the coordinator's mailbox together, as under load.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "mtcache/actors/detail/coordinator.hpp"
#include "mtcache/actors/detail/coordinator_state.hpp"
#include "mtcache/actors/memory_tier.hpp"
#include "mtcache/messages/error.hpp"
#include "mtcache/runtime/message_types.hpp"
#include "support/coordinator_fixture.hpp"

using namespace mtcache;
using namespace mtcache::detail;
using mtcache::testing::recording_tier;
using mtcache::testing::tier_log;

namespace {

class CoordinatorWrites : public mtcache::testing::coordinator_fixture {};

TEST_F(CoordinatorWrites, SetsWaitingTogetherGoOutAsOneBatchInOrder) {
  for (int i = 0; i < 100; ++i)
    send_set("k", std::to_string(i));
  for (int i = 0; i < 20; ++i)
    send_set("other:" + std::to_string(i), "v");
  auto acks = answers<write_ack>(120);
  for (auto& ack : acks) {
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->written, 2u);
  }
  EXPECT_EQ(log->batches, std::vector<size_t>{120});
  EXPECT_EQ(log->data["k"], "99");
  EXPECT_EQ(get("k").value.view(), "99");
  EXPECT_EQ(stats().sets, 120u);
}

TEST_F(CoordinatorWrites, SetAloneInTheMailboxGoesOutAtOnce) {
  send_set("k", "v");
  ASSERT_TRUE(answers<write_ack>(1).at(0));
  send_set("k", "w");
  ASSERT_TRUE(answers<write_ack>(1).at(0));
  EXPECT_EQ(log->batches, (std::vector<size_t>{1, 1}));
}

// Queued sets go out before anything else reaches a tier: a get or a removal sent right
// after a set sees it, as without batching.
TEST_F(CoordinatorWrites, ReadOrRemovalRightAfterASetComesAfterIt) {
  send_set("k", "old");
  ASSERT_TRUE(answers<write_ack>(1).at(0));
  send_set("k", "new");
  self->send(cache, get_atom::value, std::string{"k"});
  sched.run();
  self->receive([](write_ack&) {}, [](caf::error&) { ADD_FAILURE(); });
  self->receive([](lookup& res) { EXPECT_EQ(res.value.view(), "new"); },
                [](caf::error&) { ADD_FAILURE(); });
  send_set("gone", "v");
  self->send(cache, delete_atom::value, std::string{"gone"});
  auto acks = answers<write_ack>(2);
  ASSERT_TRUE(acks.at(0) && acks.at(1));
  EXPECT_FALSE(get("gone").found);
  EXPECT_EQ(log->data.count("gone"), 0u);
}

TEST_F(CoordinatorWrites, WriteRefusedInsideABatchFailsThatWriteAlone) {
  log->answer = tier_log::mode::refuse_bad_keys;
  send_set("a", "1");
  send_set("bad:1", "2");
  send_set("b", "3");
  send_set("bad:2", "4");
  auto acks = answers<write_ack>(4);
  ASSERT_EQ(log->batches, std::vector<size_t>{4});
  for (size_t i : {0, 2}) {
    ASSERT_TRUE(acks[i]);
    EXPECT_EQ(acks[i]->written, 2u);
    EXPECT_TRUE(acks[i]->failed.empty());
  }
  for (size_t i : {1, 3}) {
    ASSERT_TRUE(acks[i]);
    EXPECT_EQ(acks[i]->written, 1u);
    ASSERT_EQ(acks[i]->failed.size(), 1u);
    EXPECT_EQ(acks[i]->failed[0].level, 2u);
    EXPECT_TRUE(is(acks[i]->failed[0].reason, errc::backend_error));
  }
  EXPECT_EQ(stats().tier_errors, 2u);
}

TEST_F(CoordinatorWrites, FailedOrShortBatchAnswersFailEveryWriteTheyMiss) {
  log->answer = tier_log::mode::fail_batches;
  for (int i = 0; i < 5; ++i)
    send_set("k" + std::to_string(i), "v");
  for (auto& ack : answers<write_ack>(5)) {
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->written, 1u);
    ASSERT_EQ(ack->failed.size(), 1u);
    EXPECT_TRUE(is(ack->failed[0].reason, errc::backend_unavailable));
  }
  EXPECT_EQ(stats().tier_errors, 5u);
  log->answer = tier_log::mode::answer_short;
  for (int i = 0; i < 3; ++i)
    send_set("s" + std::to_string(i), "v");
  auto acks = answers<write_ack>(3);
  EXPECT_TRUE(acks.at(0)->failed.empty());
  EXPECT_TRUE(acks.at(1)->failed.empty());
  ASSERT_EQ(acks.at(2)->failed.size(), 1u);
  EXPECT_TRUE(is(acks[2]->failed[0].reason, errc::backend_error));
  EXPECT_EQ(stats().tier_errors, 6u);
}

// Under load at most max_batches_out batches of sets are in flight; sets that come in
// meanwhile gather, and go out as one batch when any batch comes back, failed or not.
TEST_F(CoordinatorWrites, SetsGatherWhileTheBatchLimitIsOut) {
  log->answer = tier_log::mode::hold;
  for (size_t b = 0; b < max_batches_out; ++b) {
    send_set("k" + std::to_string(b), "a");
    send_set("k" + std::to_string(b), "b");
    sched.run();
  }
  ASSERT_EQ(log->batches, std::vector<size_t>(max_batches_out, 2));
  // Alone in the mailbox, and then with others behind it: either way it waits.
  send_set("late", "0");
  sched.run();
  for (int i = 1; i < 5; ++i)
    send_set("late", std::to_string(i));
  sched.run();
  EXPECT_EQ(log->batches.size(), max_batches_out);
  release(true);
  ASSERT_EQ(log->batches.size(), max_batches_out + 1);
  EXPECT_EQ(log->batches.back(), 5u);
  while (!log->held.empty())
    release();
  size_t both = 0;
  for (auto& ack : answers<write_ack>(2 * max_batches_out + 5)) {
    ASSERT_TRUE(ack);
    both += ack->written == 2 ? 1 : 0;
  }
  EXPECT_EQ(both, 2 * max_batches_out + 3);
  EXPECT_EQ(log->data["late"], "4");
}

} // namespace

namespace {

class CoordinatorReads : public CoordinatorWrites {
protected:
  void SetUp() override { start(true); }

  void send_get(const std::string& key) { self->send(cache, get_atom::value, key); }

  // The answers to `n` gets as "value@level" (or "miss"), sorted: hits in the first tier are
  // answered as the batch returns, misses later by flights.
  std::vector<std::string> results(size_t n) {
    std::vector<std::string> out;
    for (auto& res : answers<lookup>(n))
      out.push_back(!res         ? "error"
                    : res->found ? res->value.str() + "@" + std::to_string(res->level)
                                 : "miss");
    std::sort(out.begin(), out.end());
    return out;
  }
};

TEST_F(CoordinatorReads, ReadsWaitingTogetherGoOutAsOneBatch) {
  log->data = {{"a", "1"}, {"b", "2"}};
  send_set("only-l2", "x");
  ASSERT_TRUE(answers<write_ack>(1).at(0));
  log->data.erase("only-l2");
  for (auto key : {"a", "b", "absent", "only-l2", "a"})
    send_get(key);
  // A miss in the first tier goes on to the next one, as an unbatched miss does.
  EXPECT_EQ(results(5), (std::vector<std::string>{"1@1", "1@1", "2@1", "miss", "x@2"}));
  EXPECT_EQ(log->read_batches, std::vector<size_t>{5});
  auto s = stats();
  EXPECT_EQ(s.requests, 5u);
  EXPECT_EQ(s.tier_hits[0], 3u);
  EXPECT_EQ(s.tier_hits[1], 1u);
  EXPECT_EQ(s.misses, 1u);
}

// A set and a get in one mailbox pass reach the tiers in the order they came in.
TEST_F(CoordinatorReads, ReadsAndWritesKeepTheirOrder) {
  send_set("k", "old");
  ASSERT_TRUE(answers<write_ack>(1).at(0));
  send_get("k");
  send_set("k", "new");
  send_get("k");
  sched.run();
  std::vector<std::string> seen;
  for (int i = 0; i < 3; ++i)
    self->receive([&](lookup& res) { seen.push_back(res.value.str()); }, [](write_ack&) {},
                  [](caf::error&) { ADD_FAILURE(); });
  EXPECT_EQ(seen, (std::vector<std::string>{"old", "new"}));
}

// Without batched writes (a tier of one's own in the chain) a set still waits for the reads
// queued before it.
TEST_F(CoordinatorReads, UnbatchedSetComesAfterTheReadsQueuedBeforeIt) {
  start(true, false);
  send_set("k", "old");
  ASSERT_TRUE(answers<write_ack>(1).at(0));
  send_get("k");
  send_set("k", "new");
  sched.run();
  self->receive([](lookup& res) { EXPECT_EQ(res.value.view(), "old"); }, [](write_ack&) {},
                [](caf::error&) { ADD_FAILURE(); });
  self->receive([](lookup&) {}, [](write_ack&) {}, [](caf::error&) { ADD_FAILURE(); });
  EXPECT_EQ(log->read_batches, std::vector<size_t>{1});
  EXPECT_EQ(log->data["k"], "new");
}

TEST_F(CoordinatorReads, FailedReadsFallThroughToTheNextTierAndCountEach) {
  send_set("bad:1", "from-l2");
  send_set("good", "v");
  ASSERT_EQ(answers<write_ack>(2).size(), 2u);
  log->data.erase("bad:1");
  log->answer = tier_log::mode::refuse_bad_keys;
  send_get("bad:1");
  send_get("good");
  EXPECT_EQ(results(2), (std::vector<std::string>{"from-l2@2", "v@1"}));
  EXPECT_EQ(stats().tier_errors, 1u);
  log->answer = tier_log::mode::fail_batches;
  send_get("bad:1");
  send_get("good");
  EXPECT_EQ(results(2), (std::vector<std::string>{"from-l2@2", "v@2"}));
  EXPECT_EQ(stats().tier_errors, 3u);
  log->answer = tier_log::mode::answer_short;
  send_get("good");
  send_get("bad:1");
  EXPECT_EQ(results(2), (std::vector<std::string>{"from-l2@2", "v@1"}));
  EXPECT_EQ(stats().tier_errors, 4u);
}

TEST_F(CoordinatorReads, ReadsGatherWhileTheBatchLimitIsOut) {
  log->data = {{"a", "1"}};
  log->answer = tier_log::mode::hold;
  for (size_t b = 0; b < max_batches_out; ++b) {
    send_get("a");
    send_get("a");
    sched.run();
  }
  ASSERT_EQ(log->read_batches, std::vector<size_t>(max_batches_out, 2));
  send_get("a");
  sched.run();
  for (int i = 1; i < 5; ++i)
    send_get("a");
  sched.run();
  EXPECT_EQ(log->read_batches.size(), max_batches_out);
  release(true);
  ASSERT_EQ(log->read_batches.size(), max_batches_out + 1);
  EXPECT_EQ(log->read_batches.back(), 5u);
  while (!log->held.empty())
    release();
  // The two reads of the failed batch fall through to the memory L2, which has no "a".
  auto got = results(2 * max_batches_out + 5);
  EXPECT_EQ(std::count(got.begin(), got.end(), "1@1"), 2 * max_batches_out + 3);
  EXPECT_EQ(std::count(got.begin(), got.end(), "miss"), 2);
}

// A removal sends queued reads out even at the limit (order first); reads queued after it
// wait for an answer although a flush message was already on its way.
TEST_F(CoordinatorReads, ReadsAfterAForcedBatchStillWaitForTheLimit) {
  log->data = {{"a", "1"}};
  log->answer = tier_log::mode::hold;
  for (size_t b = 0; b + 1 < max_batches_out; ++b) {
    send_get("a");
    send_get("a");
    sched.run();
  }
  send_get("a");
  send_get("a");
  self->send(cache, delete_atom::value, std::string{"other"});
  send_get("a");
  send_get("a");
  sched.run();
  ASSERT_EQ(log->read_batches, std::vector<size_t>(max_batches_out, 2));
  release();
  EXPECT_EQ(log->read_batches, std::vector<size_t>(max_batches_out + 1, 2));
  while (!log->held.empty())
    release();
  self->receive([](write_ack&) {}, [](caf::error&) { ADD_FAILURE(); });
  EXPECT_EQ(results(2 * max_batches_out + 2),
            std::vector<std::string>(2 * max_batches_out + 2, "1@1"));
}

} // namespace

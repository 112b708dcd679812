#include "mtcache/actors/detail/batch_queue.hpp"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

using mtcache::detail::batch_queue;
using mtcache::detail::max_batch;
using mtcache::detail::max_batches_out;

namespace {

// A queue of ints whose sender records each batch and keeps its completion for the test.
struct recorded_queue {
  using queue = batch_queue<int>;

  std::vector<std::vector<int>> sent;
  std::vector<queue::completion> out;
  queue q{[this](std::shared_ptr<queue::batch> batch, queue::completion done) {
    sent.push_back(*batch);
    out.push_back(done);
  }};

  void push(std::initializer_list<int> xs) {
    for (auto x : xs)
      q.push(x);
  }

  // Brings the oldest batch still out back.
  void come_back() {
    auto done = out.front();
    out.erase(out.begin());
    done();
  }
};

} // namespace

TEST(BatchQueue, BatchesOnlyWithASender) {
  batch_queue<int> q;
  EXPECT_FALSE(q.batching());
  q.set_sender([](auto, auto) {});
  EXPECT_TRUE(q.batching());
}

TEST(BatchQueue, QueuedRequestsGoOutAsOneBatchInOrder) {
  recorded_queue r;
  r.push({1, 2, 3});
  EXPECT_EQ(r.q.size(), 3u);
  r.q.send();
  ASSERT_EQ(r.sent.size(), 1u);
  EXPECT_EQ(r.sent[0], (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(r.q.empty());
  EXPECT_EQ(r.q.out(), 1u);
}

TEST(BatchQueue, NothingQueuedSendsNothing) {
  recorded_queue r;
  r.q.send();
  r.q.send_if_room();
  EXPECT_TRUE(r.sent.empty());
  EXPECT_EQ(r.q.out(), 0u);
}

TEST(BatchQueue, ABatchComingBackSendsWhatGatheredMeanwhile) {
  recorded_queue r;
  r.push({1});
  r.q.send();
  r.push({2, 3});
  EXPECT_EQ(r.sent.size(), 1u);
  r.come_back();
  ASSERT_EQ(r.sent.size(), 2u);
  EXPECT_EQ(r.sent[1], (std::vector<int>{2, 3}));
  EXPECT_EQ(r.q.out(), 1u);
  r.come_back();
  EXPECT_EQ(r.sent.size(), 2u);
  EXPECT_EQ(r.q.out(), 0u);
}

TEST(BatchQueue, AtTheLimitOnlyAForcedSendGoesOut) {
  recorded_queue r;
  for (size_t i = 0; i < max_batches_out; ++i) {
    EXPECT_TRUE(r.q.has_room());
    r.push({static_cast<int>(i)});
    r.q.send_if_room();
  }
  EXPECT_EQ(r.q.out(), max_batches_out);
  EXPECT_FALSE(r.q.has_room());
  r.push({100});
  r.q.send_if_room();
  EXPECT_EQ(r.sent.size(), max_batches_out);
  // Order comes before the limit.
  r.q.send();
  EXPECT_EQ(r.sent.size(), max_batches_out + 1);
  EXPECT_EQ(r.q.out(), max_batches_out + 1);
}

TEST(BatchQueue, FullAtMaxBatch) {
  recorded_queue r;
  for (size_t i = 0; i + 1 < max_batch; ++i)
    r.q.push(static_cast<int>(i));
  EXPECT_FALSE(r.q.full());
  r.q.push(0);
  EXPECT_TRUE(r.q.full());
}

TEST(BatchQueue, TakeEmptiesTheQueueWithoutSending) {
  recorded_queue r;
  r.push({4, 5});
  EXPECT_EQ(r.q.take(), (std::vector<int>{4, 5}));
  EXPECT_TRUE(r.q.empty());
  EXPECT_TRUE(r.sent.empty());
  EXPECT_EQ(r.q.out(), 0u);
}

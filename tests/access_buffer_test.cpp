#include "mtcache/store/access_buffer.hpp"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

using mtcache::detail::access_buffer;
using mtcache::detail::access_record;

namespace {

std::vector<access_record> drain_all(access_buffer& buf) {
  std::vector<access_record> out;
  buf.drain([&](const access_record& r) { out.push_back(r); });
  return out;
}

} // namespace

TEST(AccessBuffer, DrainsRecordsInOrder) {
  access_buffer buf;
  for (uint32_t i = 0; i < 10; ++i)
    EXPECT_TRUE(buf.record({i, i * 2, i}));
  auto seen = drain_all(buf);
  ASSERT_EQ(seen.size(), 10u);
  for (uint32_t i = 0; i < 10; ++i) {
    EXPECT_EQ(seen[i].id, i);
    EXPECT_EQ(seen[i].hash, i * 2);
  }
  EXPECT_TRUE(drain_all(buf).empty());
  EXPECT_EQ(buf.hits(), 10u);
}

TEST(AccessBuffer, AFullRingDropsAndCountsButKeepsCountingHits) {
  access_buffer buf;
  size_t kept = 0;
  for (size_t i = 0; i < access_buffer::ring_size + 5; ++i)
    kept += buf.record({1, 1, 0}) ? 1 : 0;
  EXPECT_EQ(kept, access_buffer::ring_size);
  EXPECT_EQ(buf.drops(), 5u);
  EXPECT_EQ(buf.hits(), access_buffer::ring_size + 5);
  EXPECT_EQ(drain_all(buf).size(), access_buffer::ring_size);
  EXPECT_TRUE(buf.record({1, 1, 0})); // room again
}

TEST(AccessBuffer, AsksForOneDrainAtATime) {
  access_buffer buf;
  int asked = 0;
  buf.on_drain_due([&] { ++asked; });
  for (size_t i = 0; i < access_buffer::drain_every - 1; ++i)
    buf.record({1, 1, 0});
  EXPECT_EQ(asked, 0);
  for (size_t i = 0; i < access_buffer::ring_size * 2; ++i)
    buf.record({1, 1, 0});
  EXPECT_EQ(asked, 1); // still pending: not asked again
  drain_all(buf);
  for (size_t i = 0; i < access_buffer::drain_every; ++i)
    buf.record({1, 1, 0});
  EXPECT_EQ(asked, 2);
}

TEST(AccessBuffer, ConcurrentRecordsAreDrainedOrCountedAsDropped) {
  access_buffer buf;
  constexpr int threads = 4;
  constexpr uint32_t per_thread = 20000;
  std::atomic<int> running{threads};
  std::vector<std::thread> producers;
  std::vector<uint64_t> recorded(threads);
  for (int t = 0; t < threads; ++t)
    producers.emplace_back([&, t] {
      for (uint32_t i = 0; i < per_thread; ++i)
        recorded[t] += buf.record({static_cast<uint32_t>(t), i, 0}) ? 1 : 0;
      running.fetch_sub(1);
    });
  uint64_t drained = 0;
  std::vector<uint32_t> last(threads, 0);
  bool ordered = true;
  auto take = [&](const access_record& r) {
    ++drained;
    // One thread's records keep their order (a thread stays on its stripe).
    ordered = ordered && (last[r.id] == 0 || r.hash > last[r.id] - 1);
    last[r.id] = r.hash + 1;
  };
  while (running.load() > 0)
    buf.drain(take);
  for (auto& p : producers)
    p.join();
  buf.drain(take);
  uint64_t total_recorded = 0;
  for (auto n : recorded)
    total_recorded += n;
  EXPECT_EQ(drained, total_recorded);
  EXPECT_EQ(buf.hits(), uint64_t{threads} * per_thread);
  EXPECT_EQ(buf.drops(), uint64_t{threads} * per_thread - total_recorded);
  EXPECT_TRUE(ordered);
}

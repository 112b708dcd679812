// The read view under concurrency, with the memory store as its one writer (what the memory
// tier does, without the actor): reader threads never see a value older than the last write
// the writer acknowledged, whatever the writer does meanwhile (puts, removes, pattern
// removals, clears, evictions, TTL and idle expiry, draining reads into the policy). Run it
// under ThreadSanitizer and AddressSanitizer too (scripts/check-sanitizers).
#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "mtcache/store/memory_store.hpp"
#include "mtcache/store/read_view.hpp"

using mtcache::bytes;
using mtcache::memory_tier_config;
using mtcache::detail::access_record;
using mtcache::detail::memory_store;
using mtcache::detail::read_view;
using namespace std::chrono_literals;

namespace {

constexpr int keys = 48;

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

std::string key_of(int k) {
  return "key:" + std::to_string(k);
}

// The value of version `v` of key `k`; readers check both parts.
std::string value_of(int k, uint64_t v) {
  return std::to_string(k) + "/" + std::to_string(v) + "/" + std::string(k % 7 * 9, 'x');
}

struct verdict {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t violations = 0;
  uint64_t corrupt = 0;
};

void run_stress(memory_tier_config cfg, int readers, int writes) {
  read_view view{cfg.time_to_idle.count(), 1};
  memory_store store{cfg};
  store.attach(&view);
  // Per key, the latest version the writer acknowledged (a removal is a version too).
  std::vector<std::atomic<uint64_t>> acked(keys);
  std::atomic<bool> done{false};
  std::vector<verdict> verdicts(readers);
  std::vector<std::thread> threads;
  for (int r = 0; r < readers; ++r)
    threads.emplace_back([&, r] {
      std::minstd_rand rng(r + 1);
      auto& out = verdicts[r];
      while (!done.load(std::memory_order_acquire)) {
        int k = static_cast<int>(rng() % keys);
        auto floor = acked[k].load(std::memory_order_acquire);
        auto key = key_of(k);
        bool hit =
            view.read(key, now_ms(), [&](std::string_view text, const bytes& block, int64_t ttl) {
              if (block.view() != text)
                ++out.corrupt;
              auto slash = text.find('/');
              auto second = text.find('/', slash + 1);
              uint64_t version =
                  std::stoull(std::string{text.substr(slash + 1, second - slash - 1)});
              if (text != value_of(k, version) || ttl < -1)
                ++out.corrupt;
              if (version < floor)
                ++out.violations;
            });
        ++(hit ? out.hits : out.misses);
      }
    });
  std::minstd_rand rng(99);
  uint64_t version = 0;
  for (int i = 0; i < writes; ++i) {
    int k = static_cast<int>(rng() % keys);
    auto now = now_ms();
    ++version;
    switch (rng() % 16) {
    case 0:
      store.remove(key_of(k));
      acked[k].store(version, std::memory_order_release);
      break;
    case 1:
      // An invalidation by pattern: every key ending in this digit.
      store.remove_if([d = '0' + k % 10](std::string_view key) { return key.back() == d; });
      for (int j = k % 10; j < keys; j += 10)
        acked[j].store(version, std::memory_order_release);
      break;
    case 2:
      if (i % 64 == 0) {
        store.clear();
        for (auto& a : acked)
          a.store(version, std::memory_order_release);
      }
      break;
    case 3:
      store.expire(now);
      break;
    default:
      // Short TTLs so that entries expire under the readers.
      store.put(key_of(k), bytes{value_of(k, version)}, rng() % 4 == 0 ? 2 : 0, now);
      acked[k].store(version, std::memory_order_release);
    }
    if (i % 32 == 0) {
      view.accesses().drain([&](const access_record& r) { store.record_read(r); });
      view.reclaim();
    }
  }
  done.store(true, std::memory_order_release);
  for (auto& t : threads)
    t.join();
  verdict total;
  for (auto& v : verdicts) {
    total.hits += v.hits;
    total.misses += v.misses;
    total.violations += v.violations;
    total.corrupt += v.corrupt;
  }
  EXPECT_EQ(total.violations, 0u);
  EXPECT_EQ(total.corrupt, 0u);
  EXPECT_GT(total.hits, 0u);
  EXPECT_EQ(view.hits(), total.hits);
}

} // namespace

TEST(ReadViewStress, NoReadSeesAnOlderVersionThanTheLastAcknowledged) {
  memory_tier_config cfg;
  cfg.max_entries = 32; // fewer than the keys: puts evict
  run_stress(cfg, 4, 60000);
}

TEST(ReadViewStress, WithTimeToIdleAndWeightBound) {
  memory_tier_config cfg;
  cfg.max_entries = 40;
  cfg.max_weight = 900;
  cfg.time_to_idle = 3ms;
  cfg.eviction = mtcache::eviction_kind::lru;
  run_stress(cfg, 3, 60000);
}

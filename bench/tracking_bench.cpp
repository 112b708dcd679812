// Redis-assisted invalidation (invalidation_config::tracking): how soon a node serves the
// value another Redis client just wrote, next to the limit, raw hiredis alone on the same
// server (SET on one connection, the tracking invalidation read on the redirect connection);
// then outside writes racing the node's reads of a few hot keys, and how many L1 entries
// differ from Redis once they stop. Prints "name value" lines.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <hiredis/hiredis.h>

#include "latency_recorder.hpp"
#include "support/two_nodes.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using mtcache::testing::eventually;
using mtcache::testing::node;

namespace {

constexpr int probes = 2000;

redisContext* connect(uint16_t port) {
  timeval tv{2, 0};
  return redisConnectWithTimeout("127.0.0.1", port, tv);
}

void command(redisContext* c, const std::string& key, const std::string& value) {
  freeReplyObject(redisCommand(c, "SET %b %b", key.data(), key.size(), value.data(), value.size()));
}

bench::latency_recorder raw_tracking(uint16_t port) {
  bench::latency_recorder rec;
  auto* sub = connect(port);
  auto* tracked = connect(port);
  auto* writer = connect(port);
  auto* id = static_cast<redisReply*>(redisCommand(sub, "CLIENT ID"));
  auto redirect = id->integer;
  freeReplyObject(id);
  freeReplyObject(redisCommand(sub, "SUBSCRIBE __redis__:invalidate"));
  freeReplyObject(
      redisCommand(tracked, "CLIENT TRACKING ON REDIRECT %lld BCAST PREFIX raw:", redirect));
  for (int i = 0; i < probes; ++i) {
    auto begin = clock_type::now();
    command(writer, "raw:" + std::to_string(i % 100), std::to_string(i));
    void* reply = nullptr;
    if (redisGetReply(sub, &reply) != REDIS_OK)
      break;
    freeReplyObject(reply);
    rec.record(clock_type::now() - begin);
  }
  redisFree(sub);
  redisFree(tracked);
  redisFree(writer);
  return rec;
}

std::string served(node& n, const std::string& key) {
  auto res = n.client().get(key);
  return res && res->found ? res->value.str() : std::string{};
}

// The node's L1 holds a key; another client sets it; the node is polled until it serves
// the new value.
bench::latency_recorder node_tracking(node& n, uint16_t port) {
  bench::latency_recorder rec;
  auto* writer = connect(port);
  for (int i = 0; i < probes; ++i) {
    auto key = "key" + std::to_string(i % 100);
    auto value = std::to_string(i);
    n.client().set(key, bytes{"old"});
    served(n, key);
    auto begin = clock_type::now();
    command(writer, key, value);
    while (served(n, key) != value)
      if (clock_type::now() - begin > 2s) {
        std::fprintf(stderr, "probe %d: the node kept the old value\n", i);
        break;
      }
    rec.record(clock_type::now() - begin);
  }
  redisFree(writer);
  return rec;
}

// Outside writes race 4 reader threads on 8 hot keys; returns the L1 entries that differ
// from Redis once the invalidations of the last write arrived.
int race(node& n, mtcache::testing::redis_server& redis, int writes) {
  constexpr int hot = 8;
  auto key = [](int i) { return "hot" + std::to_string(i % hot); };
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t)
    readers.emplace_back([&, t] {
      for (int i = t; !done; ++i)
        n.client().get(key(i));
    });
  auto* writer = connect(redis.port());
  for (int i = 0; i < writes; ++i)
    command(writer, key(i), std::to_string(i));
  done = true;
  for (auto& r : readers)
    r.join();
  n.client().set("fence", bytes{"old"});
  command(writer, "fence", "new");
  redisFree(writer);
  eventually([&] { return served(n, "fence") == "new"; });
  int stale = 0;
  for (int i = 0; i < hot; ++i) {
    auto res = n.client().get(key(i));
    if (res && res->found && res->level == 1 && res->value.str() != redis.command({"GET", key(i)}))
      ++stale;
  }
  return stale;
}

void print(const char* name, bench::latency_recorder& rec) {
  std::printf("%s_p50_ms %.3f\n", name, rec.percentile_us(50) / 1000);
  std::printf("%s_p99_ms %.3f\n", name, rec.percentile_us(99) / 1000);
}

} // namespace

int main() {
  mtcache::testing::redis_server redis;
  if (!redis.start()) {
    std::fprintf(stderr, "%s\n", redis.error().c_str());
    return 1;
  }
  auto raw = raw_tracking(redis.port());
  print("raw_tracking_roundtrip", raw);
  auto cfg = mtcache::testing::redis_node_config(redis, "a");
  cfg.invalidation.tracking = true;
  node n{cfg};
  if (!n.ok() || !eventually([&] { return n.bridge().tracking; }, 10s)) {
    std::fprintf(stderr, "tracking did not come on: %s\n", n.error().c_str());
    return 1;
  }
  auto rec = node_tracking(n, redis.port());
  print("invalidation_tracking", rec);
  constexpr int writes = 20000;
  auto stale = race(n, redis, writes);
  std::printf("tracking_stale_after_race %d\ntracking_race_writes %d\n", stale, writes);
  auto stats = n.client().stats();
  std::printf("tracking_races %llu\n",
              static_cast<unsigned long long>(stats ? stats->tracking_races : 0));
  return 0;
}

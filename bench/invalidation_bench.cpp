// Invalidation propagation between two nodes (two actor systems in this process, so one
// clock times both ends): A updates a key, B's L1 holds the new value. Measured over Redis
// Pub/Sub and over a direct CAF link, next to the limit: a raw PUBLISH -> message roundtrip
// with hiredis alone on the same server. Then a sustained 10 000 messages/s for 3 s: every
// message sent must be applied. Prints "name value" lines.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include <hiredis/hiredis.h>

#include <caf/scoped_actor.hpp>

#include "latency_recorder.hpp"
#include "support/two_nodes.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using mtcache::testing::eventually;
using mtcache::testing::node;

namespace {

constexpr int probes = 2000;

// A writes, B is polled until its L1 shows the write.
bench::latency_recorder propagation(node& a, node& b, const std::string& tag) {
  bench::latency_recorder rec;
  for (int i = 0; i < probes; ++i) {
    auto key = tag + std::to_string(i % 100);
    auto value = std::to_string(i);
    auto begin = clock_type::now();
    a.client().call<write_ack>(update_atom::value, key, bytes{value}, caf::timespan{1min});
    while (b.in_l1(key) != std::optional<std::string>{value}) {
      if (clock_type::now() - begin > 2s) {
        std::fprintf(stderr, "%s: probe %d lost\n", tag.c_str(), i);
        break;
      }
    }
    rec.record(clock_type::now() - begin);
  }
  return rec;
}

// PUBLISH on one hiredis connection, the message read on another.
bench::latency_recorder raw_pubsub(uint16_t port) {
  bench::latency_recorder rec;
  timeval tv{2, 0};
  auto* sub = redisConnectWithTimeout("127.0.0.1", port, tv);
  auto* pub = redisConnectWithTimeout("127.0.0.1", port, tv);
  freeReplyObject(redisCommand(sub, "SUBSCRIBE raw-bench"));
  for (int i = 0; i < probes; ++i) {
    auto begin = clock_type::now();
    freeReplyObject(redisCommand(pub, "PUBLISH raw-bench %d", i));
    void* reply = nullptr;
    if (redisGetReply(sub, &reply) != REDIS_OK)
      break;
    freeReplyObject(reply);
    rec.record(clock_type::now() - begin);
  }
  redisFree(sub);
  redisFree(pub);
  return rec;
}

void print(const char* name, bench::latency_recorder& rec) {
  std::printf("%s_p50_ms %.3f\n", name, rec.percentile_us(50) / 1000);
  std::printf("%s_p90_ms %.3f\n", name, rec.percentile_us(90) / 1000);
  std::printf("%s_p99_ms %.3f\n", name, rec.percentile_us(99) / 1000);
  std::printf("%s_p999_ms %.3f\n", name, rec.percentile_us(99.9) / 1000);
}

// Sends `rate` invalidations per second for `seconds` from A; returns how many B applied.
std::pair<uint64_t, uint64_t> sustained(node& a, node& b, int rate, int seconds) {
  auto before = b.bridge().received;
  caf::scoped_actor self{a.sys()};
  auto cache = a.client().handle();
  uint64_t sent = 0;
  auto begin = clock_type::now();
  for (int tick = 0; tick < rate * seconds / 100; ++tick) {
    for (int i = 0; i < 100; ++i, ++sent)
      self->send(cache, invalidate_atom::value, "rate-" + std::to_string(sent % 5000));
    std::this_thread::sleep_until(begin +
                                  std::chrono::microseconds{1'000'000LL * (tick + 1) * 100 / rate});
  }
  size_t acks = 0;
  self->receive_for(acks, sent)([](write_ack&) {}, [](caf::error&) {});
  eventually([&] { return b.bridge().received - before >= sent; }, 10s);
  return {sent, b.bridge().received - before};
}

} // namespace

int main() {
  mtcache::testing::redis_server redis;
  if (!redis.start()) {
    std::fprintf(stderr, "%s\n", redis.error().c_str());
    return 1;
  }
  auto raw = raw_pubsub(redis.port());
  print("raw_publish_roundtrip", raw);
  {
    node a{mtcache::testing::redis_node_config(redis, "a")};
    node b{mtcache::testing::redis_node_config(redis, "b")};
    eventually([&] { return a.bridge().redis_subscribed && b.bridge().redis_subscribed; });
    auto rec = propagation(a, b, "redis-");
    print("invalidation_redis", rec);
    auto [sent, applied] = sustained(a, b, 10000, 3);
    std::printf("invalidation_redis_sent %llu\ninvalidation_redis_applied %llu\n",
                static_cast<unsigned long long>(sent), static_cast<unsigned long long>(applied));
  }
  {
    auto a_cfg = cache_config::embedded();
    a_cfg.invalidation.listen = true;
    node a{a_cfg};
    uint16_t port = 0;
    eventually([&] { return (port = a.bridge().listen_port) != 0; });
    auto b_cfg = cache_config::embedded();
    b_cfg.invalidation.peers.push_back("127.0.0.1:" + std::to_string(port));
    node b{b_cfg};
    eventually([&] { return b.bridge().peers_connected == 1; });
    auto rec = propagation(a, b, "caf-");
    print("invalidation_caf", rec);
    auto [sent, applied] = sustained(a, b, 10000, 3);
    std::printf("invalidation_caf_sent %llu\ninvalidation_caf_applied %llu\n",
                static_cast<unsigned long long>(sent), static_cast<unsigned long long>(applied));
  }
  return 0;
}

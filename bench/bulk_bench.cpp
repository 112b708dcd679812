// Bulk loads (get_or_compute_many, Caffeine's getAll with loadAll): 1 000 keys, half of them
// cached in L1 and Redis, half cold, read in one call with a bulk loader that answers after
// 50 ms without blocking a thread (as a non-blocking database client would). The loader must
// be called once, for exactly the 500 cold keys, and Redis must get one batched read. For
// comparison, 500 other cold keys through one get_or_compute each, with a loader answering at
// once (a call each). L2 on REDIS_URL
// if set, else on a redis-server of this binary's own. Prints "name value" lines.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "bench_system.hpp"
#include "mtcache/runtime/blocking_client.hpp"
#include "mtcache/runtime/spawn_cache.hpp"
#include "support/redis_server.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr int key_count = 1000;
constexpr auto loader_delay = 50ms;

using timed_bulk_loader_actor = bulk_loader_actor::extend<caf::reacts_to<done_atom, uint64_t>>;

struct timed_bulk_loader_state {
  std::unordered_map<uint64_t, std::pair<std::vector<std::string>,
                                         caf::typed_response_promise<std::vector<bulk_entry>>>>
      open;
  uint64_t next = 0;
};

struct loader_counts {
  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> keys{0};
};

// Answers every bulk load after `loader_delay`, counting calls and keys.
timed_bulk_loader_actor::behavior_type
timed_bulk_loader(timed_bulk_loader_actor::stateful_pointer<timed_bulk_loader_state> self,
                  std::shared_ptr<loader_counts> counts) {
  return {
      [=](load_atom, std::vector<std::string>& keys) -> caf::result<std::vector<bulk_entry>> {
        ++counts->calls;
        counts->keys += keys.size();
        auto id = ++self->state.next;
        auto rp = self->make_response_promise<std::vector<bulk_entry>>();
        self->state.open.emplace(id, std::make_pair(std::move(keys), rp));
        self->delayed_send(self, loader_delay, done_atom::value, id);
        return rp;
      },
      [=](done_atom, uint64_t id) {
        auto i = self->state.open.find(id);
        std::vector<bulk_entry> out;
        for (auto& key : i->second.first)
          out.push_back(bulk_entry::of(bytes{"value-of-" + key}));
        i->second.second.deliver(std::move(out));
        self->state.open.erase(i);
      },
  };
}

// Batched reads the Redis tier (the second) sent so far.
uint64_t redis_batches(blocking_cache& client) {
  auto tiers = client.tiers();
  uint64_t n = 0;
  if (tiers && tiers->size() > 1)
    for (auto& op : (*tiers)[1].ops)
      if (op.op == "get_batch")
        for (auto c : op.latency.counts)
          n += c;
  return n;
}

double ms_since(clock_type::time_point begin) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - begin).count();
}

} // namespace

int main() {
  caf::actor_system_config cfg;
  caf::actor_system sys{bench::configure(cfg)};
  mtcache::testing::redis_server redis;
  std::string url;
  if (auto* env = std::getenv("REDIS_URL"))
    url = env;
  else if (redis.start())
    url = redis.url();
  if (url.empty()) {
    std::fprintf(stderr, "bulk_bench: no redis-server (%s)\n", redis.error().c_str());
    return 1;
  }
  cache_config config = cache_config::embedded();
  redis_tier_config l2;
  l2.url = url;
  l2.key_prefix = "bulk_bench:";
  config.add_redis_tier(tier_config::as_l2(), l2);
  auto cache = spawn_cache(sys, config);
  if (!cache) {
    std::fprintf(stderr, "bulk_bench: %s\n", sys.render(cache.error()).c_str());
    return 1;
  }
  auto counts = std::make_shared<loader_counts>();
  auto loader = caf::actor_cast<bulk_loader_actor>(sys.spawn(timed_bulk_loader, counts));
  int errors = 0;
  {
    blocking_cache client{sys, *cache, 30s};
    // Let the Redis tier connect, then cache every other key in both tiers.
    for (int i = 0; i < 200 && !client.set("warmup", bytes{"v"}); ++i)
      std::this_thread::sleep_for(20ms);
    std::vector<std::string> keys;
    for (int i = 0; i < key_count; ++i) {
      keys.push_back("bulk-" + std::to_string(i));
      if (i % 2 == 0 && !client.set(keys.back(), bytes{"cached"}, strategy::long_term()))
        ++errors;
    }
    auto batches_before = redis_batches(client);
    auto begin = clock_type::now();
    auto res = client.get_or_compute_many(keys, {strategy::long_term()}, loader);
    auto took = ms_since(begin);
    if (!res) {
      std::fprintf(stderr, "bulk_bench: %s\n", sys.render(res.error()).c_str());
      return 1;
    }
    for (size_t i = 0; i < keys.size(); ++i)
      errors += res->errors[i] || !res->results[i].found ? 1 : 0;
    std::printf("bulk_get_or_compute_loader_calls %llu\n",
                static_cast<unsigned long long>(counts->calls.load()));
    std::printf("bulk_get_or_compute_keys_loaded %llu\n",
                static_cast<unsigned long long>(counts->keys.load()));
    std::printf("bulk_get_or_compute_redis_batches %llu\n",
                static_cast<unsigned long long>(redis_batches(client) - batches_before));
    std::printf("bulk_get_or_compute_ms %.1f\n", took);

    // The same count of cold keys, one get_or_compute each (all sent at once), for comparison.
    auto single_calls = std::make_shared<std::atomic<uint64_t>>(0);
    auto single = sys.spawn([=](loader_actor::pointer) -> loader_actor::behavior_type {
      return {[=](load_atom, const std::string& key) {
        ++*single_calls;
        return bytes{"value-of-" + key};
      }};
    });
    caf::scoped_actor self{sys};
    begin = clock_type::now();
    int sent = 0;
    for (int i = 1; i < key_count; i += 2, ++sent)
      self->send(*cache, compute_atom::value, "single-" + std::to_string(i),
                 compute_options{strategy::long_term()}, single);
    int answered = 0;
    self->receive_for(answered, sent)([](lookup&) {}, [&](caf::error&) { ++errors; });
    std::printf("bulk_single_computes_ms %.1f\n", ms_since(begin));
    std::printf("bulk_single_loader_calls %llu\n",
                static_cast<unsigned long long>(single_calls->load()));
    std::printf("bulk_errors %d\n", errors);
    caf::anon_send_exit(single, caf::exit_reason::user_shutdown);
  }
  caf::anon_send_exit(loader, caf::exit_reason::user_shutdown);
  stop_cache(*cache);
  return 0;
}

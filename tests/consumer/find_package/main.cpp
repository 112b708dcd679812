// An application outside the source tree, as a user writes one: only <mtcache/mtcache.hpp>
// (and the cereal headers for the standard types it stores). It runs an embedded cache, so it
// needs no Redis, and exits 0 only if every answer is right.
#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <mtcache/mtcache.hpp>

namespace {

struct order {
  std::string customer;
  std::vector<int> items;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(customer, items);
  }
};

int failures = 0;

void expect(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what);
    ++failures;
  }
}

} // namespace

int main() {
  caf::actor_system_config cfg;
  mtcache::add_message_types(cfg);
  mtcache::apply_recommended_scheduler(cfg);
  caf::actor_system sys{cfg};
  auto cache = mtcache::spawn_cache(sys, mtcache::cache_config::embedded());
  if (!cache) {
    std::fprintf(stderr, "spawn_cache: %s\n", sys.render(cache.error()).c_str());
    return 1;
  }
  {
    mtcache::blocking_cache client{sys, *cache};

    auto ack = client.set("user:42", mtcache::bytes{"Ada"}, mtcache::strategy::short_term());
    expect(ack && ack->written == 1 && ack->failed.empty(), "set writes the one tier");
    auto hit = client.get("user:42");
    expect(hit && hit->found && hit->value.str() == "Ada" && hit->level == 1, "get finds it in L1");
    expect(hit && hit->ttl_ms > 0 && hit->ttl_ms <= 300'000, "with the short_term TTL");
    auto miss = client.get("user:7");
    expect(miss && !miss->found, "an unknown key misses");

    mtcache::typed::set(client, "order:1", order{"Ada", {3, 1, 4}});
    auto back = mtcache::typed::get<order>(client, "order:1");
    expect(back && *back && (*back)->customer == "Ada" &&
               (*back)->items == std::vector<int>{3, 1, 4},
           "a struct comes back as it went in");
    // The cache logs that it drops the key: expected here.
    auto wrong = mtcache::typed::get<order>(client, "user:42");
    expect(wrong && !*wrong, "bytes that are no typed value read as a miss");

    std::atomic<int> loads{0};
    auto loader =
        mtcache::spawn_typed_loader<int>(sys, [&loads](const std::string&) -> caf::expected<int> {
          ++loads;
          return 42;
        });
    for (int i = 0; i < 2; ++i) {
      auto answer = mtcache::typed::get_or_compute<int>(client, "answer",
                                                        {mtcache::strategy::long_term()}, loader);
      expect(answer && *answer == 42, "get_or_compute answers 42");
    }
    expect(loads == 1, "the loader ran once");

    auto stats = client.stats();
    expect(stats && stats->sets >= 2, "stats count the sets");
  }
  mtcache::stop_cache(*cache);
  if (failures == 0)
    std::printf("consumer: all answers right\n");
  return failures == 0 ? 0 : 1;
}

// Typed values: a struct goes in and out of the byte tiers through cereal. The "database"
// loader returns a struct; the cache stores its encoded form and decodes it for every caller.
#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include "mtcache/runtime/message_types.hpp"
#include "mtcache/runtime/spawn_cache.hpp"
#include "mtcache/runtime/typed_cache.hpp"

using namespace mtcache;

struct user {
  int id = 0;
  std::string name;
  std::vector<std::string> roles;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(id, name, roles);
  }
};

int main() {
  caf::actor_system_config cfg;
  add_message_types(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  auto cache = spawn_cache(sys, cache_config::defaults());
  if (!cache) {
    std::printf("cannot start the cache: %s\n", sys.render(cache.error()).c_str());
    return 1;
  }
  blocking_cache client{sys, *cache};

  std::atomic<int> queries{0};
  auto users_table =
      spawn_typed_loader<user>(sys, [&](const std::string& key) -> caf::expected<user> {
        ++queries;
        auto id = std::stoi(key.substr(key.find(':') + 1));
        return user{id, "user-" + std::to_string(id), {"reader", id % 2 ? "writer" : "auditor"}};
      });

  for (int round = 1; round <= 2; ++round) {
    auto u = typed::get_or_compute<user>(client, "user:7", {strategy::long_term()}, users_table);
    if (!u) {
      std::printf("failed: %s\n", sys.render(u.error()).c_str());
      return 1;
    }
    std::printf("round %d: user %d '%s' with %zu roles (database queries so far: %d)\n", round,
                u->id, u->name.c_str(), u->roles.size(), queries.load());
  }

  typed::set(client, "user:8", user{8, "Grace", {"admin"}});
  if (auto grace = typed::get<user>(client, "user:8"); grace && *grace)
    std::printf("set and read back: '%s' is %s\n", (*grace)->name.c_str(),
                (*grace)->roles.front().c_str());

  client.set("user:9", bytes{"not a user"});
  auto odd = typed::get<user>(client, "user:9");
  std::printf("bytes that do not decode read as a miss: %s\n", odd && !*odd ? "yes" : "no");
  stop_cache(*cache);
  return 0;
}

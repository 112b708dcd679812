#include "runtime/spawn_cache.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include "actors/coordinator.hpp"
#include "actors/memory_tier.hpp"
#include "actors/redis_tier.hpp"
#include "messages/error.hpp"

namespace mtcache {

caf::expected<cache_actor> spawn_cache(caf::actor_system& sys, const cache_config& cfg) {
  if (auto err = validate(cfg))
    return err;
  for (auto& spec : cfg.tiers)
    if (spec.type == tier_spec::kind::redis && !sys.has_middleman())
      return make_error(
          errc::not_configured,
          "a Redis tier needs caf::io::middleman: call cfg.load<caf::io::middleman>()");
  tier_chain chain;
  std::vector<caf::actor> owned;
  auto stop_owned = [&] {
    for (auto& a : owned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  };
  for (auto& spec : cfg.tiers) {
    tier_actor tier;
    switch (spec.type) {
    case tier_spec::kind::memory:
      tier = spawn_memory_tier(sys, spec.memory, spec.placement.level);
      break;
    case tier_spec::kind::redis: {
      auto spawned = spawn_redis_tier(sys, spec.redis, spec.placement.level);
      if (!spawned) {
        stop_owned();
        return std::move(spawned.error());
      }
      tier = std::move(*spawned);
      break;
    }
    case tier_spec::kind::custom:
      tier = spec.custom;
      break;
    }
    if (spec.type != tier_spec::kind::custom)
      owned.emplace_back(caf::actor_cast<caf::actor>(tier));
    chain.push_back({std::move(tier), spec.placement});
  }
  return spawn_coordinator(sys, std::move(chain), cfg.options, std::move(owned));
}

void stop_cache(const cache_actor& cache) {
  caf::anon_send_exit(cache, caf::exit_reason::user_shutdown);
}

} // namespace mtcache

#include "mtcache/runtime/spawn_cache.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/send.hpp>

#include "mtcache/actors/detail/coordinator.hpp"
#include "mtcache/actors/detail/redis_streams.hpp"
#include "mtcache/actors/memcached_tier.hpp"
#include "mtcache/actors/memory_tier.hpp"
#include "mtcache/actors/redis_tier.hpp"
#include "mtcache/messages/error.hpp"
#include "mtcache/runtime/detail/cache_catalog.hpp"
#include "mtcache/store/read_view.hpp"

namespace mtcache {

namespace {

// What the bridge needs: the network to reach peers and, for Redis Pub/Sub, the URL and a
// publisher of its own (which joins `owned`).
caf::expected<detail::bridge_params> make_bridge_params(caf::actor_system& sys,
                                                        const cache_config& cfg,
                                                        std::vector<caf::actor>& owned) {
  if (!sys.has_middleman())
    return make_error(errc::not_configured,
                      "invalidation needs caf::io::middleman: call cfg.load<caf::io::middleman>()");
  detail::bridge_params params;
  params.cfg = cfg.invalidation;
  params.node_id = cfg.node_id;
  if (cfg.invalidation.tls) {
    if (!sys.has_openssl_manager())
      return make_error(errc::not_configured,
                        "TLS peer links need caf::openssl: call mtcache::enable_tls(cfg, ...)");
    params.network = sys.openssl_manager().actor_handle();
  } else {
    params.network = sys.middleman().actor_handle();
  }
  if (!cfg.invalidation.redis)
    return params;
  redis_tier_config connection;
  for (auto& spec : cfg.tiers)
    if (spec.type == tier_spec::kind::redis) {
      connection = spec.redis;
      break;
    }
  connection.url = invalidation_url(cfg);
  connection.key_prefix.clear();
  auto url = resolve_redis_url(connection.url);
  if (!url)
    return std::move(url.error());
  // On a cluster, the subscriber, the publisher and the audit stream all use the primary of
  // the stream's slot: changes then reach this node's subscription in the order they were
  // published, as on one server, and a replay's position holds.
  auto stream = cfg.invalidation.channel_prefix + cfg.invalidation.audit_stream;
  if (url->mode == redis_url::topology::cluster)
    url->route_key = stream;
  auto publisher = detail::spawn_redis_streams(sys, connection, stream);
  if (!publisher)
    return std::move(publisher.error());
  owned.emplace_back(caf::actor_cast<caf::actor>(*publisher));
  params.url = std::move(*url);
  params.publisher = std::move(*publisher);
  params.request_timeout = connection.request_timeout;
  params.connect_timeout = connection.connect_timeout;
  return params;
}

} // namespace

caf::expected<cache_actor> spawn_cache(caf::actor_system& sys, const cache_config& cfg) {
  if (auto err = validate(cfg))
    return err;
  if (cfg.metrics.enabled && !sys.has_middleman())
    return make_error(errc::not_configured, "the metrics endpoint needs caf::io::middleman: "
                                            "call cfg.load<caf::io::middleman>()");
  for (auto& spec : cfg.tiers)
    if ((spec.type == tier_spec::kind::redis || spec.type == tier_spec::kind::memcached) &&
        !sys.has_middleman())
      return make_error(
          errc::not_configured,
          std::string{spec.type == tier_spec::kind::redis ? "a Redis" : "a memcached"} +
              " tier needs caf::io::middleman: call cfg.load<caf::io::middleman>()");
  detail::tier_chain chain;
  std::vector<caf::actor> owned;
  std::vector<detail::tracked_tier> tracked;
  std::shared_ptr<detail::read_view> view;
  // When tags were removed: the coordinator writes it, the first tier and its view read it.
  auto tags = std::make_shared<detail::tag_clock>();
  auto stop_owned = [&] {
    for (auto& a : owned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  };
  for (auto& spec : cfg.tiers) {
    tier_actor tier;
    batch_tier_actor batch;
    switch (spec.type) {
    case tier_spec::kind::memory:
      // A first tier in this process gets a read view: gets answered without a message.
      if (chain.empty()) {
        view = std::make_shared<detail::read_view>(spec.memory.time_to_idle.count(),
                                                   spec.placement.level);
        view->use_tags(tags);
        batch = spawn_memory_tier(sys, spec.memory, spec.placement.level, view);
      } else {
        batch = spawn_memory_tier(sys, spec.memory, spec.placement.level);
      }
      tier = batch;
      break;
    case tier_spec::kind::redis: {
      auto spawned = spawn_redis_tier(sys, spec.redis, spec.placement.level);
      if (!spawned) {
        stop_owned();
        return std::move(spawned.error());
      }
      batch = std::move(*spawned);
      tier = batch;
      if (cfg.invalidation.tracking)
        tracked.push_back({caf::actor_cast<detail::tracking_tier_actor>(batch),
                           spec.placement.level, spec.redis.key_prefix,
                           tracked_prefixes(cfg, spec.redis)});
      break;
    }
    case tier_spec::kind::memcached: {
      auto spawned = spawn_memcached_tier(sys, spec.memcached, spec.placement.level);
      if (!spawned) {
        stop_owned();
        return std::move(spawned.error());
      }
      batch = std::move(*spawned);
      tier = batch;
      break;
    }
    case tier_spec::kind::custom:
      tier = spec.custom;
      break;
    }
    if (spec.type != tier_spec::kind::custom)
      owned.emplace_back(caf::actor_cast<caf::actor>(tier));
    // The redis and memcached tiers fail a command at their request_timeout, checked every
    // quarter of it. Both run on the multiplexer thread, so reads go to them in batches.
    bool networked = spec.type == tier_spec::kind::redis || spec.type == tier_spec::kind::memcached;
    auto request_timeout = spec.type == tier_spec::kind::redis ? spec.redis.request_timeout
                                                               : spec.memcached.request_timeout;
    bool in_time = spec.type == tier_spec::kind::memory ||
                   (networked && request_timeout * 5 / 4 <= cfg.options.tier_timeout);
    chain.push_back({std::move(tier), spec.placement, in_time, std::move(batch), networked,
                     chain.empty() ? view : nullptr});
    // Every Redis tier holds leases: one server, Sentinel's primary or a cluster.
    if (cfg.options.load_lease && spec.type == tier_spec::kind::redis)
      chain.back().lease = caf::actor_cast<detail::lease_tier_actor>(chain.back().batch);
  }
  std::optional<detail::bridge_params> bridge;
  if (cfg.invalidation.enabled()) {
    auto params = make_bridge_params(sys, cfg, owned);
    if (!params) {
      stop_owned();
      return std::move(params.error());
    }
    bridge = std::move(*params);
    bridge->tracked = std::move(tracked);
  }
  auto cache = detail::spawn_coordinator(sys, std::move(chain), cfg.options, std::move(owned),
                                         std::move(bridge), std::move(tags));
  auto& catalog = detail::cache_catalog::instance();
  catalog.add(sys, cfg.name, cache, std::move(view));
  if (cfg.metrics.enabled) {
    if (auto err = catalog.attach_endpoint(sys, cfg.metrics, cache)) {
      stop_cache(cache);
      return err;
    }
  }
  return cache;
}

void stop_cache(const cache_actor& cache) {
  caf::anon_send_exit(cache, caf::exit_reason::user_shutdown);
}

} // namespace mtcache

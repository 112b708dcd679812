#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include "mtcache/runtime/blocking_client.hpp"
#include "mtcache/runtime/message_types.hpp"
#include "mtcache/runtime/scheduler_tuning.hpp"
#include "mtcache/runtime/spawn_cache.hpp"
#include "mtcache/runtime/tls.hpp"
#include "support/redis_server.hpp"

namespace mtcache::testing {

/// One node of a test cluster: its own actor system (as another process would have), a
/// cache and a blocking client. Several nodes live in one test process.
class node {
public:
  explicit node(const cache_config& config, const std::optional<tls_files>& tls = std::nullopt) {
    add_message_types(cfg_);
    apply_recommended_scheduler(cfg_);
    cfg_.set("scheduler.max-threads", 2);
    cfg_.load<caf::io::middleman>();
    if (tls)
      enable_tls(cfg_, *tls);
    sys_ = std::make_unique<caf::actor_system>(cfg_);
    auto spawned = spawn_cache(*sys_, config);
    if (!spawned) {
      error_ = sys_->render(spawned.error());
      return;
    }
    cache_ = *spawned;
    client_ = std::make_unique<blocking_cache>(*sys_, *cache_, std::chrono::seconds{5});
  }

  ~node() {
    client_.reset();
    if (cache_)
      stop_cache(*cache_);
    cache_.reset();
    sys_.reset();
  }

  bool ok() const { return client_ != nullptr; }
  const std::string& error() const { return error_; }
  blocking_cache& client() { return *client_; }
  caf::actor_system& sys() { return *sys_; }

  bridge_stats bridge() {
    auto res = client_->call<bridge_stats>(stats_atom::value, invalidate_atom::value);
    return res ? *res : bridge_stats{};
  }

  /// Entries in the first (memory) tier.
  uint64_t l1_size() {
    auto tiers = client_->tiers();
    return tiers && !tiers->empty() ? tiers->front().size : ~uint64_t{0};
  }

  /// The value of `key` if the first tier has it (read through the cache, so only a
  /// level-1 answer counts).
  std::optional<std::string> in_l1(const std::string& key) {
    auto res = client_->get(key);
    if (res && res->found && res->level == 1)
      return res->value.str();
    return std::nullopt;
  }

private:
  caf::actor_system_config cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  std::optional<cache_actor> cache_;
  std::unique_ptr<blocking_cache> client_;
  std::string error_;
};

/// L1 memory + L2 Redis (promotion on every hit) with invalidation over Redis Pub/Sub.
inline cache_config redis_node_config(const redis_server& redis, const std::string& node_id) {
  cache_config cfg;
  cfg.node_id = node_id;
  cfg.add_memory_tier(tier_config::as_l1());
  redis_tier_config l2;
  l2.url = redis.url();
  l2.request_timeout = std::chrono::milliseconds{300};
  l2.backoff_max = std::chrono::milliseconds{200};
  cfg.add_redis_tier(tier_config::as_l2().with_promotion_frequency(1), l2);
  cfg.invalidation.redis = true;
  cfg.invalidation.keepalive = std::chrono::milliseconds{100};
  cfg.invalidation.backoff_max = std::chrono::milliseconds{200};
  return cfg;
}

} // namespace mtcache::testing

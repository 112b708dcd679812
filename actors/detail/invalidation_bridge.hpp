#pragma once

#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/io/middleman_actor.hpp>

#include "mtcache/codec/redis_url.hpp"
#include "mtcache/messages/config.hpp"
#include "mtcache/messages/detail/bridge_protocol.hpp"
#include "mtcache/messages/detail/streams.hpp"
#include "mtcache/messages/interfaces.hpp"

namespace mtcache::detail {

/// A Redis tier whose connection tracks its keys for this node (invalidation_config::tracking).
struct tracked_tier {
  tracking_tier_actor handle;
  uint32_t level = 0;
  /// Stripped from the names Redis reports; names without it are not this tier's keys.
  std::string key_prefix;
  std::vector<std::string> prefixes;
};

/// What a bridge needs; `spawn_cache` fills it in.
struct bridge_params {
  invalidation_config cfg;
  /// This node's origin id; empty picks a random one.
  std::string node_id;
  /// Where received changes and recoveries go (held weakly: the coordinator owns the bridge).
  caf::actor coordinator;
  /// Redis to subscribe to (used when cfg.redis).
  redis_url url;
  /// PUBLISH and XADD go here (used when cfg.redis).
  streams_actor publisher;
  /// Connection timeouts of the subscriber.
  std::chrono::milliseconds request_timeout{500};
  std::chrono::milliseconds connect_timeout{1000};
  /// With cfg.tracking: the Redis tiers to track.
  std::vector<tracked_tier> tracked;
  /// Publishes the inbox and connects to peers: the middleman's actor, or the OpenSSL
  /// manager's for TLS links.
  caf::io::middleman_actor network;
};

/// Spawns a node's invalidation bridge with what the config asks for: a Redis subscriber,
/// a peer inbox published on `cfg.listen_port`, and one link per configured peer. The
/// bridge owns them and stops them (and unpublishes the inbox) when it exits.
///
/// Local changes (from the coordinator) get this node's origin id and a sequence number and
/// go out on every path; changes from other nodes are checked (signature, size, pattern
/// prefixes), deduplicated by (origin, seq) across paths, and handed to the coordinator for
/// the local tiers. After a path comes back from a loss the recovery policy runs.
bridge_actor spawn_invalidation_bridge(caf::actor_system& sys, bridge_params params);

} // namespace mtcache::detail

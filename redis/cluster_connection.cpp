// Connecting to a Redis Cluster as a whole, for connections that are not routed per key:
// the invalidation bridge's subscriber (Pub/Sub reaches every node, so any node serves) and
// its audit stream (one key, so the primary serving its slot).

#include <atomic>

#include <hiredis/hiredis.h>

#include "mtcache/codec/detail/cluster_slot.hpp"
#include "mtcache/messages/error.hpp"
#include "mtcache/redis/cluster_topology.hpp"
#include "mtcache/redis/redis_connection.hpp"

namespace mtcache::detail {

namespace {

redis_url node_url(const redis_url& cluster, const std::string& host, uint16_t port) {
  redis_url result;
  result.host = host;
  result.port = port;
  result.user = cluster.user;
  result.password = cluster.password;
  return result;
}

// The primary serving `key`, as the node `url` sees the cluster.
caf::expected<redis_url> owner_of(const redis_url& cluster, const redis_url& url,
                                  const std::string& key, std::chrono::milliseconds timeout) {
  auto c = connect_redis(url, timeout);
  if (!c)
    return std::move(c.error());
  auto* raw = static_cast<redisReply*>(redisCommand(c->get(), "CLUSTER SLOTS"));
  if (raw == nullptr)
    return make_error(errc::backend_unavailable, "CLUSTER SLOTS: " + std::string{(*c)->errstr});
  redis_reply_ptr reply{raw};
  auto ranges = parse_cluster_slots(reply.get(), url.host);
  if (!ranges)
    return std::move(ranges.error());
  auto slot = cluster_slot(key);
  for (auto& range : *ranges) {
    if (slot < range.first || slot > range.last)
      continue;
    std::string host;
    uint16_t port = 0;
    if (!split_address(range.primary, host, port))
      break;
    return node_url(cluster, host, port);
  }
  return make_error(errc::backend_unavailable,
                    "no node of the cluster serves slot " + std::to_string(slot));
}

} // namespace

caf::expected<connected_socket> open_cluster_socket(const redis_url& url,
                                                    std::chrono::milliseconds timeout) {
  // Spread over the seeds and move past a dead one: each attempt starts one further.
  static std::atomic<size_t> next_seed{0};
  auto start = next_seed.fetch_add(1, std::memory_order_relaxed);
  caf::error last = make_error(errc::invalid_config, "a cluster URL without nodes");
  for (size_t i = 0; i < url.nodes.size(); ++i) {
    auto& seed = url.nodes[(start + i) % url.nodes.size()];
    auto target = node_url(url, seed.host, seed.port);
    if (!url.route_key.empty()) {
      auto owner = owner_of(url, target, url.route_key, timeout);
      if (!owner) {
        last = std::move(owner.error());
        continue;
      }
      target = std::move(*owner);
    }
    auto sock = open_redis_socket(target, timeout);
    if (sock)
      return sock;
    last = std::move(sock.error());
  }
  return last;
}

} // namespace mtcache::detail

#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

struct redisReply;

namespace mtcache::detail {

/// What a Redis Cluster error reply asks of the client.
struct cluster_redirect {
  enum class kind : uint8_t {
    /// Not a cluster redirect: an ordinary error.
    none,
    /// `MOVED slot host:port`: the slot lives there now; update the map.
    moved,
    /// `ASK slot host:port`: this one request goes there, after ASKING; the map stays.
    ask,
    /// `TRYAGAIN` (a multi-key request during a migration) or `CLUSTERDOWN`: retry shortly.
    retry,
  };
  kind what = kind::none;
  uint16_t slot = 0;
  /// host:port of the node named by MOVED or ASK.
  std::string address;
};

cluster_redirect parse_cluster_error(std::string_view error);

/// One range of slots with the node serving it, from CLUSTER SLOTS.
struct slot_range {
  uint16_t first = 0;
  uint16_t last = 0;
  /// host:port of the primary, then of its replicas.
  std::string primary;
  std::vector<std::string> replicas;
};

/// The ranges of a CLUSTER SLOTS reply. A node reported without an address (an empty host,
/// or "?") is the node that was asked, `asked_host`.
caf::expected<std::vector<slot_range>> parse_cluster_slots(const redisReply* reply,
                                                           const std::string& asked_host);

/// "host:port", with an IPv6 host in brackets; `split_address` undoes it.
std::string join_address(std::string_view host, uint16_t port);
bool split_address(std::string_view address, std::string& host, uint16_t& port);

} // namespace mtcache::detail

#pragma once

// Finding the primary of a Sentinel set, blocking, for the connectors (see
// redis_connection.hpp): ask the sentinels in turn with `SENTINEL get-master-addr-by-name`
// (starting with the one that answered last, so that a dead sentinel costs one timeout once,
// not on every reconnect), then check that the node reports itself `master` with ROLE. A
// failover moves the primary; a node that was primary may come back as a replica, and a
// write it acknowledged would be lost, so a connection to anything but a primary is refused.
//
// What the sentinels announce (switch_watch.hpp) is kept here per set, for the whole
// process: the primary last announced, and a promotion under way. The sentinels name the
// new primary only when the failover is over, about a second after their leader sent the
// chosen replica REPLICAOF NO ONE (measured with down-after-milliseconds 1000: the leader's
// `+failover-state-wait-promotion` came 0.9 s before `+switch-master`). From that event
// until the switch, or for `promotion_hint_ms` at most, connections go to the replica being
// promoted; ROLE still has to say `master`, so nothing is written to it before it is one.

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/expected.hpp>

#include "mtcache/codec/redis_url.hpp"

struct redisContext;

namespace mtcache::detail {

/// How long a promotion announced by the sentinels' leader stands in for their answer.
constexpr int64_t promotion_hint_ms = 5000;

/// The primary of the Sentinel set of `url` (a `redis+sentinel://` URL), with the data
/// credentials and db of `url`: a standalone URL to connect to. The replica being promoted
/// if a promotion is under way, else what the sentinels report for the master name. Fails
/// with errc::backend_unavailable when no sentinel answers and errc::invalid_config when the
/// sentinels that answer do not know the master name; the reason names every sentinel asked.
caf::expected<redis_url> ask_sentinels(const redis_url& url, std::chrono::milliseconds timeout);

/// The primary that the sentinel asked last named could not be used (unreachable, or not a
/// primary): that sentinel may not have heard of a failover yet, so the next resolution
/// starts with the next one.
void skip_sentinel(const redis_url& url);

/// How a sentinel named a primary: answering get-master-addr-by-name (a watcher that just
/// connected; only the first answer counts, since a sentinel may lag behind a failover), in
/// its leader's `+failover-state-wait-promotion`, or in `+switch-master`.
enum class primary_news : uint8_t { answer, promotion, switch_master };

/// A sentinel of the set of `url` named `primary` ("host:port"). Returns whether the
/// connections to the set must move (a new primary after the first one heard of).
bool announce_primary(const redis_url& url, const std::string& primary, primary_news how);

/// Fails with errc::backend_unavailable unless the server behind `c` answers ROLE with
/// `master`; `where` names it in the reason.
caf::error check_primary(redisContext* c, const std::string& where);

/// "host:port" of a TCP URL, IPv6 hosts in brackets.
std::string host_port(const redis_url& url);

} // namespace mtcache::detail

#pragma once

// Following a Sentinel set's failovers as they happen.
//
// Without it a node learns of a failover only through its own requests: with a stopped
// primary they time out (request_timeout), the reconnect asks the sentinels, which still
// name the old primary until they agree it is down, and the connect then waits out
// connect_timeout on a socket the stopped server's kernel accepted. So each connection
// loses a few timeouts after the sentinels already switched.
//
// A watcher per sentinel subscribes there to `+switch-master` and to
// `+failover-state-wait-promotion`, which only the sentinel leading the failover publishes
// (hence one per sentinel: any of them may lead), and tells sentinel.hpp what it heard.
// When that moves the primary, every connection of the process to the set drops and
// reconnects at once (see reachability.hpp), and its connector finds the new primary.
// Several sentinels announce the same switch; only the first announcement moves anything.
//
// The watchers of a set start with the first link to it in an actor system and stop with
// the last. A watcher that loses its sentinel reconnects with backoff; one that does not
// answer its keepalive PING within a second is dropped and reconnected.

#include <caf/fwd.hpp>

#include "mtcache/codec/redis_url.hpp"

namespace mtcache::detail {

class switch_watch {
public:
  /// A link to the Sentinel set of `url` in `sys` started: the set's watchers run.
  static void attach(caf::actor_system& sys, const redis_url& url);

  /// A link to it stopped; the last one stops the watchers.
  static void detach(caf::actor_system& sys, const redis_url& url);
};

} // namespace mtcache::detail

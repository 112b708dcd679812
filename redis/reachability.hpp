#pragma once

// The Redis connections of this process, by server, so that the first one to get through
// after an outage tells the others to stop waiting out their backoff.
//
// A node talks to one Redis over several connections (the tier, the publisher, the stream
// reader, the subscriber), each reconnecting on its own jittered schedule. After an outage
// they came back up to a backoff period apart, and for that long a node could write a
// value to Redis while its publisher was still away, so other nodes heard of the write
// late. A server that accepts one connection accepts them all: whoever connects first
// sends every other connection to the same server a `(connect_atom)`, and those that are
// waiting to retry connect at once.
//
// A Sentinel set is one server here, whichever node is its primary: when the primary moves,
// the set's watchers (switch_watch.hpp) send every connection to it a `(switch_atom, primary)`.

#include <string>

#include <caf/actor_addr.hpp>

namespace mtcache::detail {

class reachability {
public:
  /// `who` owns a connection to `server` and handles `(connect_atom)` by connecting now if
  /// it is waiting to retry.
  static void join(const std::string& server, const caf::actor_addr& who);

  static void leave(const std::string& server, const caf::actor_addr& who);

  /// `from` just connected to `server`: tells every other owner to try now.
  static void arrived(const std::string& server, const caf::actor_addr& from);

  /// `server` (a Sentinel set) has a new primary ("host:port"): tells every owner with a
  /// `(switch_atom, primary)` to drop a connection elsewhere and connect again at once.
  static void switched(const std::string& server, const std::string& primary);
};

} // namespace mtcache::detail

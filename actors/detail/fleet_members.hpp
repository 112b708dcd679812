#pragma once

// Fleet-wide flights: which node loads a key. Each node ranks the candidates (itself and the
// peers it is linked with) by a hash of the key and the candidate's node id, and the highest
// rank owns the key (rendezvous hashing, Thaler and Ravishankar 1998). Nodes that see the
// same members pick the same owner without asking one another, and when a node leaves, only
// the keys it owned move.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/fwd.hpp>

#include "mtcache/messages/interfaces.hpp"

namespace mtcache::detail {

/// The rank of `node` for `key`; the same on every node of any platform.
uint64_t rendezvous_score(std::string_view key, std::string_view node);

/// Which of `nodes` (ids) owns `key`: the index of the highest rank, ties going to the smaller
/// id, the same choice on every node. `nodes` must not be empty.
size_t rendezvous_owner(std::string_view key, const std::vector<std::string_view>& nodes);

struct fleet_members {
  /// This node's id, as the peers see it (`caf::to_string` of its node_id).
  std::string self;
  /// Each linked peer's node id and inbox.
  std::vector<std::pair<std::string, peer_inbox_actor>> peers;

  /// The inbox of the peer that owns `key`, or nullptr if this node does.
  const peer_inbox_actor* owner_of(std::string_view key) const;

  /// The members as this node sees them: itself and `peers` (their node ids from their
  /// handles).
  static fleet_members of(const caf::node_id& self, const std::vector<peer_inbox_actor>& peers);
};

} // namespace mtcache::detail

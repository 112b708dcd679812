#include "mtcache/actors/detail/fleet_members.hpp"

#include <caf/node_id.hpp>

namespace mtcache::detail {

namespace {

uint64_t fnv1a(uint64_t h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// splitmix64's finalizer: FNV-1a alone leaves the high bits of near-identical inputs close,
// and the ranks compare whole words.
uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

} // namespace

uint64_t rendezvous_score(std::string_view key, std::string_view node) {
  auto h = fnv1a(0xcbf29ce484222325ULL, key);
  // The key's length keeps ("ab", "c") apart from ("a", "bc").
  h ^= key.size();
  h *= 0x100000001b3ULL;
  return mix(fnv1a(h, node));
}

const peer_inbox_actor* fleet_members::owner_of(std::string_view key) const {
  const peer_inbox_actor* owner = nullptr;
  auto best = rendezvous_score(key, self);
  auto best_node = std::string_view{self};
  for (auto& [node, inbox] : peers) {
    auto score = rendezvous_score(key, node);
    // Ties (as good as impossible) go to the smaller id, the same choice on every node.
    if (score > best || (score == best && std::string_view{node} < best_node)) {
      best = score;
      best_node = node;
      owner = &inbox;
    }
  }
  return owner;
}

fleet_members fleet_members::of(const caf::node_id& self,
                                const std::vector<peer_inbox_actor>& peers) {
  fleet_members out;
  out.self = caf::to_string(self);
  for (auto& peer : peers)
    if (peer && peer.node() != self)
      out.peers.emplace_back(caf::to_string(peer.node()), peer);
  return out;
}

} // namespace mtcache::detail

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

size_t rendezvous_owner(std::string_view key, const std::vector<std::string_view>& nodes) {
  size_t owner = 0;
  auto best = rendezvous_score(key, nodes[0]);
  for (size_t i = 1; i < nodes.size(); ++i) {
    auto score = rendezvous_score(key, nodes[i]);
    // Ties (as good as impossible) go to the smaller id.
    if (score > best || (score == best && nodes[i] < nodes[owner])) {
      best = score;
      owner = i;
    }
  }
  return owner;
}

const peer_inbox_actor* fleet_members::owner_of(std::string_view key) const {
  std::vector<std::string_view> nodes{self};
  for (auto& peer : peers)
    nodes.emplace_back(peer.first);
  auto owner = rendezvous_owner(key, nodes);
  return owner == 0 ? nullptr : &peers[owner - 1].second;
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

#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <caf/node_id.hpp>
#include <caf/scoped_actor.hpp>

#include "mtcache/actors/callable_loader.hpp"
#include "mtcache/actors/detail/fleet_members.hpp"
#include "mtcache/messages/error.hpp"
#include "support/redis_server.hpp"
#include "support/two_nodes.hpp"

namespace mtcache::testing {

/// Nodes in one process linked over CAF into a full mesh (each listens and links to the ones
/// started before it), each with an L1 and the same Redis as L2, and loaders that count their
/// calls together: fleet-wide flights for tests and bench/fleet_bench. Unlinked, they share
/// only the Redis: load leases (tests/flight_lease_test, bench/fleet_bench).
class fleet_nodes {
public:
  explicit fleet_nodes(const redis_server& redis) : redis_(redis) {}

  /// Applied to every node's options before it starts.
  cache_options options;

  /// Whether the nodes link over CAF; unlinked, they know nothing of one another.
  bool linked = true;

  /// Applied to every node's memory tier and Redis tier before it starts (the Redis URL is
  /// the server's).
  memory_tier_config memory_tier;
  redis_tier_config redis_tier;

  std::vector<std::unique_ptr<node>> nodes;

  std::shared_ptr<std::atomic<int>> loader_calls = std::make_shared<std::atomic<int>>(0);

  /// Starts `n` nodes and waits until each is linked with all others and routes over them.
  /// Returns an error message, empty on success.
  std::string start(size_t n = 3) {
    std::vector<uint16_t> ports;
    for (size_t i = 0; i < n; ++i) {
      nodes.push_back(std::make_unique<node>(config("n" + std::to_string(i), ports)));
      if (!nodes.back()->ok())
        return nodes.back()->error();
      if (!linked)
        continue;
      uint16_t port = 0;
      if (!eventually([&] { return (port = nodes.back()->bridge().listen_port) != 0; }))
        return "node " + std::to_string(i) + " does not listen";
      ports.push_back(port);
    }
    for (auto& x : nodes) {
      if (!linked)
        break;
      if (!eventually([&] { return x->bridge().peers_connected == n - 1; }))
        return "the nodes do not link into a mesh";
      if (options.fleet_flights && !eventually([&] { return stats(*x).fleet_peers == n - 1; }))
        return "the coordinators do not see their peers";
    }
    return {};
  }

  /// A key whose owner, among the nodes started, is node `i`.
  std::string key_owned_by(size_t i, const std::string& prefix = "fleet:") const {
    std::vector<std::string> ids;
    for (auto& x : nodes)
      ids.push_back(caf::to_string(x->sys().node()));
    std::vector<std::string_view> views{ids.begin(), ids.end()};
    for (int k = 0;; ++k) {
      auto key = prefix + std::to_string(k);
      if (detail::rendezvous_owner(key, views) == i)
        return key;
    }
  }

  /// A loader in `n`'s actor system that counts its calls in `loader_calls` and answers
  /// "loaded:<key>" (or fails) after `delay`.
  loader_actor counting_loader(node& n, std::chrono::milliseconds delay, bool fail = false) {
    auto calls = loader_calls;
    return spawn_callable_loader(n.sys(), [=](const std::string& key) -> caf::expected<bytes> {
      ++*calls;
      std::this_thread::sleep_for(delay);
      if (fail)
        return make_error(errc::loader_failed, "no " + key);
      return bytes{"loaded:" + key};
    });
  }

  struct answers {
    std::vector<lookup> values;
    std::vector<caf::error> errors;
  };

  /// Callers of get_or_compute on some nodes, `per_node` requests each sent at once.
  class callers {
  public:
    callers(fleet_nodes& fleet, const std::vector<node*>& from, const std::string& key,
            size_t per_node, std::chrono::milliseconds delay, bool fail = false)
        : per_node_(per_node) {
      for (auto* n : from) {
        selves_.push_back(std::make_unique<caf::scoped_actor>(n->sys()));
        auto loader = fleet.counting_loader(*n, delay, fail);
        for (size_t i = 0; i < per_node; ++i)
          (*selves_.back())
              ->send(n->client().handle(), compute_atom::value, key, compute_options{}, loader);
      }
    }

    /// Every answer.
    answers collect() {
      answers out;
      for (auto& self : selves_) {
        size_t received = 0;
        (*self)->receive_for(received, per_node_)(
            [&](lookup& res) { out.values.push_back(std::move(res)); },
            [&](caf::error& err) { out.errors.push_back(std::move(err)); });
      }
      return out;
    }

  private:
    size_t per_node_;
    std::vector<std::unique_ptr<caf::scoped_actor>> selves_;
  };

  /// `err` rendered by the first node still up.
  std::string render(const caf::error& err) {
    for (auto& n : nodes)
      if (n)
        return n->sys().render(err);
    return "?";
  }

  static cache_stats stats(node& n) {
    auto s = n.client().stats();
    return s ? *s : cache_stats{};
  }

  /// `field` summed over the nodes still running.
  uint64_t total(uint64_t cache_stats::*field) {
    uint64_t sum = 0;
    for (auto& x : nodes)
      if (x)
        sum += stats(*x).*field;
    return sum;
  }

private:
  cache_config config(const std::string& id, const std::vector<uint16_t>& peers) const {
    cache_config cfg;
    cfg.node_id = id;
    cfg.add_memory_tier(tier_config::as_l1(), memory_tier);
    redis_tier_config l2 = redis_tier;
    // A cluster's URL when the tests set one; the server the nodes were made with otherwise.
    l2.url = redis_tier.url.empty() ? redis_.url() : redis_tier.url;
    cfg.add_redis_tier(tier_config::as_l2(), l2);
    cfg.options = options;
    if (!linked)
      return cfg;
    cfg.invalidation.listen = true;
    cfg.invalidation.backoff_initial = std::chrono::milliseconds{20};
    cfg.invalidation.backoff_max = std::chrono::milliseconds{100};
    for (auto port : peers)
      cfg.invalidation.peers.push_back("127.0.0.1:" + std::to_string(port));
    return cfg;
  }

  const redis_server& redis_;
};

} // namespace mtcache::testing

#pragma once

// One scrape: every cache is asked for its counters (coordinator, tiers, bridge) at once,
// and the snapshots are handed on when the last answer is in. The counters stay where the
// work happens (per actor, plain integers); this is the only place they are gathered.

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "mtcache/codec/detail/prometheus_text.hpp"
#include "mtcache/messages/error.hpp"
#include "mtcache/messages/interfaces.hpp"

namespace mtcache::detail {

/// A cache as a scrape sees it: the name its samples carry.
struct named_cache {
  std::string name;
  cache_actor handle;
};

/// Lists the caches to scrape; called at every scrape, so caches spawned later show up.
using cache_source = std::function<std::vector<named_cache>()>;

/// Asks every cache in `caches` for its counters, each request bounded by `timeout`, and
/// calls `done(std::vector<cache_snapshot>)` once all answered, caches in the given order.
/// A cache whose coordinator does not answer is left out (it is stopping); missing tier or
/// bridge figures are left out of its snapshot.
template <class Self, class Done>
void scrape(Self* self, const std::vector<named_cache>& caches, caf::timespan timeout, Done done) {
  struct scrape_round {
    std::vector<cache_snapshot> snapshots;
    std::vector<bool> answered;
    size_t outstanding;
    Done done;
  };
  auto r = std::make_shared<scrape_round>(scrape_round{std::vector<cache_snapshot>(caches.size()),
                                                       std::vector<bool>(caches.size(), false),
                                                       caches.size() * 3, std::move(done)});
  auto settle = [r] {
    if (--r->outstanding > 0)
      return;
    std::vector<cache_snapshot> out;
    for (size_t i = 0; i < r->snapshots.size(); ++i)
      if (r->answered[i])
        out.emplace_back(std::move(r->snapshots[i]));
    r->done(std::move(out));
  };
  if (caches.empty()) {
    r->done(std::vector<cache_snapshot>{});
    return;
  }
  for (size_t i = 0; i < caches.size(); ++i) {
    r->snapshots[i].name = caches[i].name;
    auto& cache = caches[i].handle;
    self->request(cache, timeout, stats_atom::value)
        .then(
            [=](cache_stats& s) {
              r->snapshots[i].cache = std::move(s);
              r->answered[i] = true;
              settle();
            },
            [=](caf::error&) { settle(); });
    self->request(cache, timeout, tierstats_atom::value)
        .then(
            [=](std::vector<tier_stats>& tiers) {
              r->snapshots[i].tiers = std::move(tiers);
              settle();
            },
            [=](caf::error&) { settle(); });
    self->request(cache, timeout, stats_atom::value, invalidate_atom::value)
        .then(
            [=](bridge_stats& b) {
              r->snapshots[i].has_bridge = true;
              r->snapshots[i].bridge = std::move(b);
              settle();
            },
            [=](caf::error&) { settle(); });
  }
}

/// Answers one `get` with the exposition of `caches`, then exits: the way in for callers
/// outside the actor system (`render_metrics`).
using scrape_actor = caf::typed_actor<caf::replies_to<get_atom>::with<std::string>>;

scrape_actor spawn_scrape(caf::actor_system& sys, std::vector<named_cache> caches,
                          caf::timespan timeout);

} // namespace mtcache::detail

#pragma once

// The Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/) rendered from the counters
// a cache's actors keep: the coordinator's `cache_stats`, each tier's `tier_stats` and the
// bridge's `bridge_stats`. Nothing is counted here; a scrape asks the actors for their
// counters and this turns them into text, so the hot path pays for plain increments only.
//
// Every sample carries `cache` (the config's name); tier figures add `tier` (the level) and
// `backend` (the tier's kind). No key is ever a label: label sets stay bounded whatever the
// traffic.

#include <string>
#include <vector>

#include "mtcache/messages/stats.hpp"

namespace mtcache::detail {

/// What one cache reported at a scrape.
struct cache_snapshot {
  std::string name;
  cache_stats cache;
  /// In any order; a tier that did not answer comes as kind "unreachable".
  std::vector<tier_stats> tiers;
  /// Only with invalidation configured.
  bool has_bridge = false;
  bridge_stats bridge;
};

/// The exposition of every cache in `caches`, families in a fixed order, each family's
/// samples together (as the format requires), caches in the given order.
std::string render_prometheus(const std::vector<cache_snapshot>& caches);

/// Appends `x` as the inside of a label value: `\`, `"` and newlines escaped.
void write_label_value(std::string& out, const std::string& x);

} // namespace mtcache::detail

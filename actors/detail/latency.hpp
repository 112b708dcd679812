#pragma once

// Recording durations into the cache's fixed-bucket histograms (messages/stats.hpp), in the
// state of the actor that did the work: no atomics, no locks; scrapes read them through the
// stats messages.

#include <algorithm>
#include <chrono>
#include <cstdint>

#include <caf/timespan.hpp>

#include "mtcache/messages/stats.hpp"

namespace mtcache::detail {

/// Adds one observation of `d` (negative durations count as zero).
inline void observe(latency_histogram& h, caf::timespan d) {
  auto ns = std::max<int64_t>(d.count(), 0);
  if (h.counts.empty())
    h.counts.resize(latency_bounds_ns.size() + 1);
  auto bucket = std::lower_bound(latency_bounds_ns.begin(), latency_bounds_ns.end(), ns) -
                latency_bounds_ns.begin();
  ++h.counts[static_cast<size_t>(bucket)];
  h.sum_ns += static_cast<uint64_t>(ns);
}

/// Adds every observation of `from` to `into`.
inline void merge(latency_histogram& into, const latency_histogram& from) {
  if (from.counts.empty())
    return;
  if (into.counts.size() < from.counts.size())
    into.counts.resize(from.counts.size());
  for (size_t i = 0; i < from.counts.size(); ++i)
    into.counts[i] += from.counts[i];
  into.sum_ns += from.sum_ns;
}

} // namespace mtcache::detail

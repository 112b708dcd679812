#pragma once

// `mtcache-cli stats`: the samples of a Prometheus text exposition, and a summary of each
// cache in it for a human at a terminal.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

namespace mtcache::cli {

struct sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

/// Parses the sample lines of an exposition (comments skipped). Fails with
/// errc::malformed_message naming the first line it cannot read.
caf::expected<std::vector<sample>> parse_exposition(std::string_view text);

/// A few lines per cache: reads and hit ratio, tiers, loads with their median and p99
/// durations, flights, invalidation traffic. Empty input says so.
std::string summarize(const std::vector<sample>& samples);

/// The `q`-quantile of a histogram from its cumulative buckets (upper bound, count),
/// interpolated linearly inside the bucket as Prometheus' histogram_quantile does; -1
/// without observations.
double bucket_quantile(double q, std::vector<std::pair<double, double>> buckets);

} // namespace mtcache::cli

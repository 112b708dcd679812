#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

namespace mtcache::bench {

/// Collects latency samples and reports percentiles. Keeps every sample (benchmarks here
/// take at most a few million), so percentiles are exact rather than bucketed.
class latency_recorder {
public:
  void record(std::chrono::nanoseconds x) { samples_.push_back(x.count()); }

  size_t count() const { return samples_.size(); }

  /// The p-th percentile (0..100) in microseconds; 0 without samples.
  double percentile_us(double p) {
    if (samples_.empty())
      return 0;
    if (!sorted_) {
      std::sort(samples_.begin(), samples_.end());
      sorted_ = true;
    }
    auto rank = static_cast<size_t>(p / 100.0 * static_cast<double>(samples_.size() - 1) + 0.5);
    return static_cast<double>(samples_[std::min(rank, samples_.size() - 1)]) / 1000.0;
  }

  void merge(const latency_recorder& other) {
    samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
    sorted_ = false;
  }

private:
  std::vector<int64_t> samples_;
  bool sorted_ = false;
};

} // namespace mtcache::bench

#pragma once

// How the Prometheus text is written (codec/detail/prometheus_*.cpp): a family at a time,
// with the labels every family shares. Private to those files.

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "mtcache/codec/detail/prometheus_text.hpp"

namespace mtcache::detail::prometheus {

using label_list = std::vector<std::pair<const char*, std::string>>;

inline void write_double(std::string& out, double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", x);
  out += buf;
}

inline void write_uint(std::string& out, uint64_t x) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%" PRIu64, x);
  out += buf;
}

// Writes families one at a time; `each` runs a family's body once per cache, so that all
// samples of a family stay together.
class exposition {
public:
  exposition(std::string& out, const std::vector<cache_snapshot>& caches)
      : out_(out), caches_(caches) {}

  void family(const char* name, const char* type, const char* help,
              const std::function<void(const cache_snapshot&)>& body) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
    for (auto& c : caches_)
      body(c);
  }

  template <class Pred>
  bool any(Pred pred) const {
    return std::any_of(caches_.begin(), caches_.end(), pred);
  }

  void sample(const char* name, const label_list& labels, uint64_t value) {
    head(name, labels);
    write_uint(out_, value);
    out_ += '\n';
  }

  void sample(const char* name, const label_list& labels, double value) {
    head(name, labels);
    write_double(out_, value);
    out_ += '\n';
  }

  // Cumulative buckets in seconds, +Inf, _sum and _count, as a histogram family wants.
  void histogram(const std::string& name, label_list labels, const latency_histogram& h) {
    uint64_t cumulative = 0;
    auto bucket_name = name + "_bucket";
    for (size_t i = 0; i <= latency_bounds_ns.size(); ++i) {
      if (i < h.counts.size())
        cumulative += h.counts[i];
      std::string le;
      if (i < latency_bounds_ns.size())
        write_double(le, static_cast<double>(latency_bounds_ns[i]) / 1e9);
      else
        le = "+Inf";
      labels.emplace_back("le", std::move(le));
      sample(bucket_name.c_str(), labels, cumulative);
      labels.pop_back();
    }
    sample((name + "_sum").c_str(), labels, static_cast<double>(h.sum_ns) / 1e9);
    sample((name + "_count").c_str(), labels, cumulative);
  }

private:
  void head(const char* name, const label_list& labels) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      bool first = true;
      for (auto& [key, value] : labels) {
        if (!first)
          out_ += ',';
        first = false;
        out_ += key;
        out_ += "=\"";
        write_label_value(out_, value);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
  }

  std::string& out_;
  const std::vector<cache_snapshot>& caches_;
};

inline label_list with_cache(const cache_snapshot& c) {
  return {{"cache", c.name}};
}

inline label_list tier_labels(const cache_snapshot& c, const tier_stats& t) {
  return {{"cache", c.name}, {"tier", std::to_string(t.level)}, {"backend", t.kind}};
}

// Tier levels in chain order: `cache_stats` counts by chain index, tiers report levels, and
// levels ascend along the chain.
inline std::vector<uint32_t> chain_levels(const cache_snapshot& c) {
  std::vector<uint32_t> levels;
  for (auto& t : c.tiers)
    levels.push_back(t.level);
  std::sort(levels.begin(), levels.end());
  return levels;
}

inline std::string level_of(const std::vector<uint32_t>& levels, size_t index) {
  return std::to_string(index < levels.size() ? levels[index] : static_cast<uint32_t>(index + 1));
}

// A memory tier (or one of the user's) holds entries in this process; Redis does not.
inline bool local(const tier_stats& t) {
  return t.kind != "redis" && t.kind != "unreachable";
}

/// The families of each part of the cache (prometheus_text.cpp, prometheus_tiers.cpp,
/// prometheus_invalidation.cpp).
void render_requests(exposition& x);
void render_loads(exposition& x);
void render_tiers(exposition& x);
void render_invalidation(exposition& x);

} // namespace mtcache::detail::prometheus

#pragma once

// Rounds of "ours vs the limit measured right before", reported by their median ratio: a
// noisy moment on a shared machine hits both sides of one round's ratio alike.

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace mtcache::bench {

struct round_result {
  double ours;
  double limit;
  double ratio() const { return limit > 0 ? ours / limit : 0; }
};

// Prints the median round of `rounds` as results `<name>`, `<name>_limit` and every round's
// ratio, comma-separated, as `<name>_ratios`.
inline void report(const char* name, const std::vector<round_result>& rounds) {
  auto sorted = rounds;
  std::sort(sorted.begin(), sorted.end(),
            [](const round_result& x, const round_result& y) { return x.ratio() < y.ratio(); });
  auto& median = sorted[(sorted.size() - 1) / 2];
  std::string ratios;
  for (auto& r : rounds) {
    char text[16];
    std::snprintf(text, sizeof(text), "%.2f", r.ratio());
    ratios += (ratios.empty() ? "" : ",") + std::string{text};
  }
  std::printf("result %s %.0f\nresult %s_limit %.0f\nresult %s_ratios %s\n", name, median.ours,
              name, median.limit, name, ratios.c_str());
}

} // namespace mtcache::bench

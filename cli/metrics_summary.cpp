#include "mtcache/cli/metrics_summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <set>

#include "mtcache/messages/error.hpp"

namespace mtcache::cli {

namespace {

caf::error bad_line(size_t number, std::string_view line) {
  return make_error(errc::malformed_message,
                    "line " + std::to_string(number) + " is not a sample: " + std::string{line});
}

// Reads `{a="x",b="y"}` from the front of `line`; false if malformed.
bool read_labels(std::string_view& line, std::map<std::string, std::string>& out) {
  line.remove_prefix(1);
  while (!line.empty() && line.front() != '}') {
    auto eq = line.find("=\"");
    if (eq == std::string_view::npos)
      return false;
    std::string key{line.substr(0, eq)};
    line.remove_prefix(eq + 2);
    std::string value;
    for (;;) {
      if (line.empty())
        return false;
      char ch = line.front();
      line.remove_prefix(1);
      if (ch == '"')
        break;
      if (ch == '\\' && !line.empty()) {
        char esc = line.front();
        line.remove_prefix(1);
        value += esc == 'n' ? '\n' : esc;
      } else {
        value += ch;
      }
    }
    out.emplace(std::move(key), std::move(value));
    if (!line.empty() && line.front() == ',')
      line.remove_prefix(1);
  }
  if (line.empty())
    return false;
  line.remove_prefix(1);
  return true;
}

double sum(const std::vector<sample>& samples, const std::string& cache, const std::string& name,
           const std::map<std::string, std::string>& match = {}) {
  double total = 0;
  for (auto& s : samples) {
    if (s.name != name)
      continue;
    auto c = s.labels.find("cache");
    if (c == s.labels.end() || c->second != cache)
      continue;
    bool ok = true;
    for (auto& [k, v] : match) {
      auto i = s.labels.find(k);
      if (i == s.labels.end() || i->second != v)
        ok = false;
    }
    if (ok)
      total += s.value;
  }
  return total;
}

std::string number(double x) {
  char buf[32];
  if (std::fabs(x - std::round(x)) < 1e-9 && std::fabs(x) < 1e15)
    std::snprintf(buf, sizeof(buf), "%.0f", x);
  else
    std::snprintf(buf, sizeof(buf), "%.3g", x);
  return buf;
}

std::string millis(double seconds) {
  if (seconds < 0)
    return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3g ms", seconds * 1000);
  return buf;
}

std::string bytes_text(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

double load_quantile(const std::vector<sample>& samples, const std::string& cache, double q) {
  std::map<double, double> by_bound;
  for (auto& s : samples) {
    if (s.name != "mtcache_load_duration_seconds_bucket")
      continue;
    auto c = s.labels.find("cache");
    auto le = s.labels.find("le");
    if (c == s.labels.end() || c->second != cache || le == s.labels.end())
      continue;
    auto bound = le->second == "+Inf" ? std::numeric_limits<double>::infinity()
                                      : std::strtod(le->second.c_str(), nullptr);
    by_bound[bound] += s.value; // summed over the outcomes
  }
  return bucket_quantile(q, {by_bound.begin(), by_bound.end()});
}

} // namespace

caf::expected<std::vector<sample>> parse_exposition(std::string_view text) {
  std::vector<sample> out;
  size_t number = 0;
  while (!text.empty()) {
    auto eol = text.find('\n');
    auto line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    ++number;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.empty() || line.front() == '#')
      continue;
    auto whole = line;
    sample s;
    auto name_end = line.find_first_of("{ ");
    if (name_end == 0 || name_end == std::string_view::npos)
      return bad_line(number, whole);
    s.name = std::string{line.substr(0, name_end)};
    line.remove_prefix(name_end);
    if (line.front() == '{' && !read_labels(line, s.labels))
      return bad_line(number, whole);
    while (!line.empty() && line.front() == ' ')
      line.remove_prefix(1);
    std::string value{line.substr(0, line.find(' '))};
    if (value.empty())
      return bad_line(number, whole);
    char* end = nullptr;
    s.value = std::strtod(value.c_str(), &end);
    if (end != value.c_str() + value.size())
      return bad_line(number, whole);
    out.emplace_back(std::move(s));
  }
  return out;
}

double bucket_quantile(double q, std::vector<std::pair<double, double>> buckets) {
  std::sort(buckets.begin(), buckets.end());
  if (buckets.empty() || buckets.back().second <= 0)
    return -1;
  auto rank = q * buckets.back().second;
  double lower = 0;
  double below = 0;
  for (auto& [bound, count] : buckets) {
    if (count >= rank) {
      if (std::isinf(bound))
        return lower; // the highest finite bound, as Prometheus answers
      auto in_bucket = count - below;
      return in_bucket <= 0 ? bound : lower + (bound - lower) * (rank - below) / in_bucket;
    }
    lower = bound;
    below = count;
  }
  return lower;
}

std::string summarize(const std::vector<sample>& samples) {
  std::set<std::string> caches;
  for (auto& s : samples)
    if (auto c = s.labels.find("cache"); c != s.labels.end() && s.name.rfind("mtcache_", 0) == 0)
      caches.insert(c->second);
  if (caches.empty())
    return "no mtcache metrics in the answer (no cache running?)\n";
  std::string out;
  for (auto& cache : caches) {
    out += "cache " + cache + "\n";
    auto hits = sum(samples, cache, "mtcache_gets_total", {{"result", "hit"}});
    auto gets = sum(samples, cache, "mtcache_gets_total");
    out += "  gets " + number(gets);
    if (gets > 0) {
      char ratio[32];
      std::snprintf(ratio, sizeof(ratio), "%.1f%%", 100 * hits / gets);
      out += " (hit ratio " + std::string{ratio} + ")";
    }
    out += ": miss " + number(sum(samples, cache, "mtcache_gets_total", {{"result", "miss"}})) +
           ", stale " + number(sum(samples, cache, "mtcache_gets_total", {{"result", "stale"}})) +
           ", error " + number(sum(samples, cache, "mtcache_gets_total", {{"result", "error"}})) +
           "\n";
    out += "  puts " + number(sum(samples, cache, "mtcache_puts_total")) + ", removals " +
           number(sum(samples, cache, "mtcache_removals_total")) + ", rejected " +
           number(sum(samples, cache, "mtcache_rejected_total")) + "\n";
    std::set<std::pair<int, std::string>> tiers;
    for (auto& s : samples)
      if (s.name == "mtcache_tier_up" && s.labels.count("cache") && s.labels.at("cache") == cache)
        tiers.insert({std::atoi(s.labels.at("tier").c_str()), s.labels.at("backend")});
    for (auto& [level, backend] : tiers) {
      std::map<std::string, std::string> t{{"tier", std::to_string(level)}};
      out += "  tier " + std::to_string(level) + " (" + backend +
             "): " + (sum(samples, cache, "mtcache_tier_up", t) > 0 ? "up" : "DOWN") + ", hits " +
             number(sum(samples, cache, "mtcache_gets_total",
                        {{"result", "hit"}, {"tier", std::to_string(level)}}));
      if (backend != "redis") {
        out += ", " + number(sum(samples, cache, "mtcache_tier_entries", t)) + " entries, " +
               bytes_text(sum(samples, cache, "mtcache_tier_weight_bytes", t));
        auto evict = [&](const char* cause) {
          auto m = t;
          m["cause"] = cause;
          return number(sum(samples, cache, "mtcache_evictions_total", m));
        };
        out += ", evictions size " + evict("size") + " expired " + evict("expired") + " idle " +
               evict("idle");
      } else {
        out += ", errors " + number(sum(samples, cache, "mtcache_tier_errors_total", t)) +
               ", reconnects " + number(sum(samples, cache, "mtcache_tier_reconnects_total", t));
      }
      out += "\n";
    }
    auto loads = sum(samples, cache, "mtcache_loads_total");
    if (loads > 0)
      out += "  loads " + number(loads) + " (failure " +
             number(sum(samples, cache, "mtcache_loads_total", {{"result", "failure"}})) +
             ", timeout " +
             number(sum(samples, cache, "mtcache_loads_total", {{"result", "timeout"}})) +
             "), p50 " + millis(load_quantile(samples, cache, 0.5)) + ", p99 " +
             millis(load_quantile(samples, cache, 0.99)) + "\n";
    out += "  flights " + number(sum(samples, cache, "mtcache_flights")) + " running, " +
           number(sum(samples, cache, "mtcache_flights_started_total")) + " started, " +
           number(sum(samples, cache, "mtcache_flight_joins_total")) + " joins; fail-safe " +
           number(sum(samples, cache, "mtcache_fail_safe_activations_total")) + "\n";
    bool bridge = std::any_of(samples.begin(), samples.end(), [&](const sample& s) {
      return s.name == "mtcache_invalidations_sent_total" && s.labels.count("cache") &&
             s.labels.at("cache") == cache;
    });
    if (bridge)
      out += "  invalidation: sent " +
             number(sum(samples, cache, "mtcache_invalidation_messages_sent_total")) +
             ", received " + number(sum(samples, cache, "mtcache_invalidations_received_total")) +
             ", dropped " + number(sum(samples, cache, "mtcache_invalidations_dropped_total")) +
             ", local flushes " + number(sum(samples, cache, "mtcache_local_flushes_total")) + "\n";
  }
  return out;
}

} // namespace mtcache::cli

// Stats and health: the coordinator's own counters (flights report theirs when they finish)
// and what every tier says about itself.

#include <algorithm>
#include <utility>
#include <vector>

#include "mtcache/actors/detail/coordinator_state.hpp"
#include "mtcache/actors/detail/fan_out.hpp"
#include "mtcache/actors/detail/latency.hpp"
#include "mtcache/store/read_view.hpp"

namespace mtcache::detail {

cache_stats current_stats(const coordinator_state& st) {
  auto res = st.stats;
  res.tier_hits[0] += st.fast_gets - st.first_tier_misses;
  // Gets the first tier's read view answered are requests and first-tier hits, counted by
  // the view (exactly: per stripe, dropped access records included).
  if (auto& view = st.tiers->front().view) {
    auto hits = view->hits();
    res.requests += hits;
    res.tier_hits[0] += hits;
  }
  res.in_flight = st.flights.size();
  res.repairs_pending = st.repairs.pending();
  res.repairs = st.repairs.repaired();
  res.repairs_superseded = st.repairs.superseded();
  res.repairs_dropped = st.repairs.dropped();
  res.flights_started = st.flights.started();
  res.flight_joins = st.flights.joins();
  res.fleet_peers = st.fleet ? static_cast<uint32_t>(st.fleet->peers.size()) : 0;
  return res;
}

void merge(cache_stats& into, const flight_report& r) {
  for (size_t i = 0; i < r.tier_hits.size() && i < into.tier_hits.size(); ++i)
    into.tier_hits[i] += r.tier_hits[i];
  into.misses += r.misses;
  into.failed += r.failed;
  into.loads += r.loads;
  into.load_errors += r.load_errors;
  into.load_timeouts += r.load_timeouts;
  into.tier_errors += r.tier_errors;
  into.stale_served += r.stale_served;
  into.promotions += r.promotions;
  into.superseded_fills += r.superseded_fills;
  into.load_soft_timeouts += r.load_soft_timeouts;
  into.fail_safe_activations += r.fail_safe_activations;
  into.eager_refresh_failures += r.eager_refresh_failures;
  into.fleet_forwarded += r.fleet_forwarded;
  into.fleet_fallbacks += r.fleet_fallbacks;
  into.tags_hidden += r.tags_hidden;
  into.lease_acquired += r.lease_acquired;
  into.lease_waited += r.lease_waited;
  into.lease_fallbacks += r.lease_fallbacks;
  if (!r.promotions_by_pair.empty()) {
    auto& pairs = into.promotions_by_pair;
    if (pairs.size() < r.promotions_by_pair.size())
      pairs.resize(r.promotions_by_pair.size());
    for (size_t i = 0; i < r.promotions_by_pair.size(); ++i)
      pairs[i] += r.promotions_by_pair[i];
  }
  if (r.loads > 0)
    observe(r.load_timeouts > 0 ? into.load_timeout
            : r.load_errors > 0 ? into.load_failure
                                : into.load_success,
            r.load_duration);
}

caf::result<std::vector<tier_stats>> collect_tier_stats(coordinator_ptr self) {
  auto rp = self->make_response_promise<std::vector<tier_stats>>();
  fan_out<tier_stats>(
      self, tier_order::unordered, all_tiers(self->state),
      [=](const tier_actor& tier, size_t) {
        return self->request(tier, self->state.opts.tier_timeout, stats_atom::value);
      },
      [=](const std::vector<size_t>& targets,
          std::vector<caf::expected<tier_stats>>& results) mutable {
        std::vector<tier_stats> out;
        for (size_t k = 0; k < targets.size(); ++k) {
          tier_stats s;
          if (results[k]) {
            s = std::move(*results[k]);
          } else {
            s.kind = "unreachable";
            s.connected = false;
          }
          s.level = (*self->state.tiers)[targets[k]].cfg.level;
          out.emplace_back(std::move(s));
        }
        rp.deliver(std::move(out));
      });
  return rp;
}

caf::result<health_report> collect_health(coordinator_ptr self) {
  auto rp = self->make_response_promise<health_report>();
  fan_out<tier_health>(
      self, tier_order::unordered, all_tiers(self->state),
      [=](const tier_actor& tier, size_t) {
        return self->request(tier, self->state.opts.tier_timeout, health_atom::value);
      },
      [=](const std::vector<size_t>& targets,
          std::vector<caf::expected<tier_health>>& results) mutable {
        health_report report;
        for (size_t k = 0; k < targets.size(); ++k) {
          tier_health h;
          if (results[k])
            h = std::move(*results[k]);
          else
            h.detail = self->system().render(results[k].error());
          h.level = (*self->state.tiers)[targets[k]].cfg.level;
          // A shared tier is not healthy before the changes it missed are back in it.
          if (auto held = self->state.repairs.pending(targets[k]); held > 0) {
            h.ok = false;
            h.detail += "; " + std::to_string(held) + " changes to repair";
          }
          report.tiers.emplace_back(std::move(h));
        }
        bool all_ok = std::all_of(report.tiers.begin(), report.tiers.end(),
                                  [](const tier_health& h) { return h.ok; });
        report.status = all_ok               ? health_status::healthy
                        : report.tiers[0].ok ? health_status::degraded
                                             : health_status::down;
        rp.deliver(std::move(report));
      });
  return rp;
}

} // namespace mtcache::detail

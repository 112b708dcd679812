#include "mtcache/actors/detail/coordinator.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "mtcache/actors/detail/coordinator_state.hpp"
#include "mtcache/actors/detail/invalidation_bridge.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

namespace {

using self_ptr = coordinator_ptr;

// Reads go to the first tier, which answers a hit itself; a miss comes back to the
// coordinator with `context`: empty for a get, (compute_options, loader) for get_or_compute.
// Under load, reads for a first tier that wants batches are queued instead (flush_reads).
// Reads may pass each other, never a write: the queued writes go out first.
caf::result<lookup> probe(self_ptr self, const std::string& key, caf::message context) {
  auto& st = self->state;
  flush_writes(self);
  ++st.fast_gets;
  if (!st.batch_reads || (self->mailbox().empty() && st.read_batches_out == 0))
    return self->delegate(st.tiers->front().handle, get_atom::value, key, miss_route{self},
                          std::move(context));
  auto rp = self->make_response_promise<lookup>();
  st.queued_reads.push_back({key, rp, std::move(context)});
  flush_later(self, st.queued_reads.size(), st.read_batches_out);
  return rp;
}

// A read the first tier had no value for (or failed): on to the key's flight, which loads it
// for a get_or_compute; with no other tier, a miss.
void after_first_tier(self_ptr self, const std::string& key, bool failed,
                      const caf::message& context, caf::typed_response_promise<lookup>& rp) {
  auto& st = self->state;
  ++st.first_tier_misses;
  if (failed)
    ++st.stats.tier_errors;
  if (context.match_elements<compute_options, loader_actor>()) {
    rp.delegate(flight_for(self, key, 0), join_atom::value, context.get_as<compute_options>(0),
                context.get_as<loader_actor>(1));
  } else if (st.tiers->size() == 1) {
    ++st.stats.misses;
    rp.deliver(lookup{});
  } else {
    rp.delegate(flight_for(self, key, 1), join_atom::value);
  }
}

caf::result<lookup> compute(self_ptr self, const std::string& key, compute_options opts,
                            loader_actor loader) {
  // A key with a flight is not in the first tier yet: join the flight directly.
  if (auto flight = live_flight(self->state, key))
    return self->delegate(*flight, join_atom::value, std::move(opts), std::move(loader));
  return probe(self, key, caf::make_message(std::move(opts), std::move(loader)));
}

} // namespace

void flush_reads(coordinator_ptr self) {
  auto& st = self->state;
  if (st.queued_reads.empty())
    return;
  auto batch = take_queued(st.queued_reads);
  ++st.read_batches_out;
  fan_out<read_batch>(
      self, {0},
      [=](const tier_actor&, size_t i) {
        std::vector<std::string> keys;
        keys.reserve(batch->size());
        for (auto& r : *batch)
          keys.push_back(r.key);
        return self->request((*self->state.tiers)[i].batch, tier_wait(self->state, i),
                             get_atom::value, std::move(keys));
      },
      [=](const std::vector<size_t>&, std::vector<caf::expected<read_batch>>& answers) {
        auto& answer = answers[0];
        std::vector<bool> failed(batch->size(), !answer);
        if (answer) {
          for (auto i : answer->failed)
            if (i < failed.size())
              failed[i] = true;
          for (size_t j = answer->results.size(); j < failed.size(); ++j)
            failed[j] = true;
        }
        // Each read of a failed batch counts in after_first_tier.
        uncount_failed_batches(self->state, answers);
        for (size_t j = 0; j < batch->size(); ++j) {
          auto& r = (*batch)[j];
          if (!failed[j] && answer->results[j].found)
            r.rp.deliver(std::move(answer->results[j]));
          else
            after_first_tier(self, r.key, failed[j], r.context, r.rp);
        }
        --self->state.read_batches_out;
        flush_reads(self);
      });
}

namespace {

caf::result<std::vector<tier_stats>> collect_tier_stats(self_ptr self) {
  auto rp = self->make_response_promise<std::vector<tier_stats>>();
  fan_out<tier_stats>(
      self, all_tiers(self->state),
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

caf::result<health_report> collect_health(self_ptr self) {
  auto rp = self->make_response_promise<health_report>();
  fan_out<tier_health>(
      self, all_tiers(self->state),
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

coordinator_actor::behavior_type coordinator(self_ptr self, tier_chain tiers, cache_options opts,
                                             std::vector<caf::actor> owned,
                                             std::optional<bridge_params> bridge) {
  auto& st = self->state;
  st.stats.tier_hits.resize(tiers.size());
  st.tiers = std::make_shared<const tier_chain>(std::move(tiers));
  st.opts = opts;
  st.rng.seed(opts.seed != 0 ? opts.seed
                             : static_cast<uint64_t>(
                                   std::chrono::steady_clock::now().time_since_epoch().count()));
  if (bridge) {
    bridge->coordinator = caf::actor_cast<caf::actor>(self);
    st.bridge = spawn_invalidation_bridge(self->system(), std::move(*bridge));
    owned.push_back(caf::actor_cast<caf::actor>(st.bridge));
  }
  st.batch_writes = std::all_of(st.tiers->begin(), st.tiers->end(),
                                [](const chain_tier& t) { return bool{t.batch}; });
  st.batch_reads = st.tiers->front().batch_reads && st.tiers->front().batch;
  // Flights hold the coordinator, so it only ends by an exit message: pass it on to them.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    fail_queued(self, make_error(errc::shutting_down, "the cache is shutting down"));
    for (auto& [key, flight] : self->state.flights)
      self->send_exit(flight.handle, msg.reason);
    self->quit(msg.reason);
  });
  self->attach_functor([owned](const caf::error& reason) {
    for (auto& a : owned)
      caf::anon_send_exit(a, reason ? caf::exit_reason::user_shutdown : caf::exit_reason::normal);
  });
  auto on_write = opts.broadcast_on_write;
  return {
      [=](get_atom, const std::string& key) -> caf::result<lookup> {
        auto& st = self->state;
        if (auto err = check_key(st, key)) {
          ++st.stats.rejected;
          return err;
        }
        ++st.stats.requests;
        if (auto flight = live_flight(st, key))
          return self->delegate(*flight, join_atom::value);
        return probe(self, key, caf::message{});
      },
      [=](miss_atom, const std::string& key, bool failed,
          const caf::message& context) -> caf::result<lookup> {
        flush_writes(self);
        auto rp = self->make_response_promise<lookup>();
        after_first_tier(self, key, failed, context, rp);
        return rp;
      },
      [=](compute_atom, const std::string& key, compute_options& opts,
          loader_actor& loader) -> caf::result<lookup> {
        auto& st = self->state;
        if (auto err = check_key(st, key)) {
          ++st.stats.rejected;
          return err;
        }
        ++st.stats.requests;
        return compute(self, key, std::move(opts), std::move(loader));
      },
      [=](compute_atom, const std::string& key, compute_options& opts, loader_actor& loader,
          retry_atom) { return compute(self, key, std::move(opts), std::move(loader)); },
      [=](put_atom, const std::string& key, bytes& value, const strategy& ttl) {
        return set_value(self, key, std::move(value), ttl.ttl(), on_write);
      },
      [=](put_atom, const std::string& key, bytes& value, const strategy& ttl, broadcast_atom) {
        return set_value(self, key, std::move(value), ttl.ttl(), true);
      },
      [=](update_atom, const std::string& key, bytes& value, caf::timespan ttl) {
        return set_value(self, key, std::move(value), ttl, true);
      },
      [=](delete_atom, const std::string& key) { return remove_key(self, key, on_write); },
      [=](delete_atom, match_atom, const std::string& pattern) {
        return remove_pattern(self, pattern, on_write);
      },
      [=](invalidate_atom, const std::string& key) { return remove_key(self, key, true); },
      [=](invalidate_atom, std::vector<std::string>& keys) {
        return remove_keys(self, std::move(keys), true);
      },
      [=](invalidate_atom, match_atom, const std::string& pattern) {
        return remove_pattern(self, pattern, true);
      },
      [=](corrupt_atom, const std::string& key) { return drop_corrupt(self, key); },
      [=](apply_atom, invalidation& change) { return apply_remote(self, std::move(change)); },
      [=](recover_atom) { return recover(self); },
      [=](stats_atom) {
        auto& st = self->state;
        auto res = st.stats;
        res.tier_hits[0] += st.fast_gets - st.first_tier_misses;
        res.in_flight = st.flights.size();
        return res;
      },
      [=](stats_atom, invalidate_atom) -> caf::result<bridge_stats> {
        auto& bridge = self->state.bridge;
        if (!bridge)
          return make_error(errc::not_configured, "this cache has no invalidation configured");
        return self->delegate(bridge, stats_atom::value);
      },
      [=](tierstats_atom) { return collect_tier_stats(self); },
      [=](health_atom) { return collect_health(self); },
      [=](fill_atom, const std::string& key, uint64_t id, uint32_t tier, bytes& value,
          caf::timespan ttl) -> caf::result<ok_atom> {
        flush_queued(self);
        auto& st = self->state;
        auto i = st.flights.find(key);
        if (i == st.flights.end() || i->second.id != id || i->second.superseded)
          return make_error(errc::superseded, "'" + key + "' changed while it was loading");
        if (tier >= st.tiers->size())
          return make_error(errc::invalid_config, "no tier " + std::to_string(tier));
        // Passed on, not requested: the write lands in the tier's mailbox in order with every
        // other write the coordinator sends there, and the tier answers the flight directly.
        return self->delegate((*st.tiers)[tier].handle, put_atom::value, key, std::move(value),
                              ttl);
      },
      [=](done_atom, const std::string& key, uint64_t id, const flight_report& report) {
        auto& st = self->state;
        if (auto i = st.flights.find(key); i != st.flights.end() && i->second.id == id)
          st.flights.erase(i);
        merge(st.stats, report);
        return ok_atom::value;
      },
      [=](done_atom, const flight_report& late) { merge(self->state.stats, late); },
      [=](caf::tick_atom) { sweep_deadlines(self); },
      [=](caf::flush_atom) {
        self->state.flush_sent = false;
        flush_ready(self);
      },
  };
}

} // namespace

cache_actor spawn_coordinator(caf::actor_system& sys, tier_chain tiers, cache_options opts,
                              std::vector<caf::actor> owned, std::optional<bridge_params> bridge) {
  return sys.spawn(coordinator, std::move(tiers), std::move(opts), std::move(owned),
                   std::move(bridge));
}

} // namespace mtcache::detail

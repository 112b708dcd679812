// Reads: a get goes to the first tier, which answers a hit itself; a miss comes back to the
// coordinator and goes on to the key's flight, which walks the tiers below (and loads, for a
// get_or_compute). Requests for a key whose flight runs join it directly.
// A get_or_compute with eager refresh has its answer come back here instead: a value past
// the call's share of its TTL goes out, then starts the key's flight as a refresh, which
// loads in the background while requests keep reading the tiers (flight_table.hpp).

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/typed_response_promise.hpp>

#include "mtcache/actors/detail/coordinator_state.hpp"
#include "mtcache/actors/detail/fan_out.hpp"
#include "mtcache/actors/detail/flight.hpp"
#include "mtcache/actors/detail/tag_filter.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

using self_ptr = coordinator_ptr;

flight_actor flight_for(self_ptr self, const std::string& key, uint32_t first_tier,
                        const flight_params* preset, bool route) {
  auto& st = self->state;
  return st.flights.spawn_if_absent(
      key,
      [&](uint64_t id) {
        flight_params params = preset ? *preset : flight_params{};
        params.key = key;
        params.id = id;
        params.tiers = st.tiers;
        params.first_tier = first_tier;
        params.tier_timeout = st.opts.tier_timeout;
        params.load_timeout = st.opts.load_timeout;
        params.max_value_bytes = st.opts.max_value_bytes;
        params.fail_safe = st.opts.fail_safe;
        params.seed = st.rng();
        if (route && !params.refresh)
          params.fleet = st.fleet;
        params.fleet_owner_wait = st.opts.fleet_owner_wait;
        params.tags = st.tags;
        // A lease stands in for the fleet where there is none to hand the load to.
        if (st.opts.load_lease && !st.fleet)
          params.lease_time = st.opts.load_lease_time;
        return spawn_flight(self, std::move(params));
      },
      preset != nullptr && preset->refresh);
}

std::vector<bool> failed_reads(const caf::expected<read_batch>& answer, size_t n) {
  std::vector<bool> failed(n, !answer);
  if (answer) {
    for (auto i : answer->failed)
      if (i < failed.size())
        failed[i] = true;
    for (size_t j = answer->results.size(); j < failed.size(); ++j)
      failed[j] = true;
  }
  return failed;
}

// Whether a value the tiers answered is past the share of its TTL at which `opts` refreshes
// it. The tiers keep only the remaining TTL, so the TTL it was written with is taken to be
// the one its loader chose last (remembered from the flight), else the call's, scaled by the
// tier that answered (found by its level).
bool due_for_refresh(const coordinator_state& st, const std::string& key, const lookup& res,
                     const compute_options& opts) {
  if (!res.found || res.stale || res.ttl_ms < 0)
    return false;
  auto base = opts.ttl.ttl();
  if (auto i = st.chosen_ttls.find(key); i != st.chosen_ttls.end()) {
    if (i->second < 0)
      return false;
    base = std::chrono::milliseconds{i->second};
  }
  for (auto& tier : *st.tiers) {
    if (tier.cfg.level != res.level)
      continue;
    auto written =
        std::chrono::duration_cast<std::chrono::milliseconds>(tier.cfg.scale(base)).count();
    if (written <= 0)
      return false;
    auto left = static_cast<double>(res.ttl_ms) / static_cast<double>(written);
    return 1.0 - left >= opts.eager_refresh;
  }
  // Level 0: a value loaded just now.
  return false;
}

namespace {

// Checks the tags of a value the first tier answered as it keeps it (see `admit_resolving`),
// counting what a tag removal hid; `then(res, hidden)` gets what callers get. A template: on
// the batched read path, where values without tags pass straight through.
template <class Then>
void admit_first_tier(self_ptr self, lookup res, Then then) {
  auto& st = self->state;
  admit_resolving(
      self, *st.tiers, [self](size_t i) { return tier_wait(self->state, i); }, st.tags,
      std::move(res),
      [self, then = std::move(then)](lookup res, bool hidden) mutable {
        self->state.stats.tags_hidden += hidden ? 1 : 0;
        then(std::move(res), hidden);
      });
}

// Reads the first tier and hands the value out here: for a first tier that answers values
// as it keeps them (one without a read view), whose tags only the coordinator can check.
caf::result<lookup> read_and_check(self_ptr self, const std::string& key, caf::message context) {
  auto& st = self->state;
  auto rp = self->make_response_promise<lookup>();
  self->request(st.tiers->front().handle, tier_wait(st, 0), get_atom::value, key)
      .then([=](lookup& res) { deliver_first_tier(self, key, std::move(res), false, context, rp); },
            [=](caf::error&) { deliver_first_tier(self, key, lookup{}, true, context, rp); });
  return rp;
}

// The first tier answers a hit itself; a miss comes back with `context`.
caf::result<lookup> probe(self_ptr self, const std::string& key, caf::message context) {
  auto& st = self->state;
  ++st.fast_gets;
  auto& first = st.tiers->front();
  if (!first.view && !st.outbox.reads_batched(self)) {
    st.outbox.send_ahead_of(tier_order::read);
    return read_and_check(self, key, std::move(context));
  }
  return st.outbox.read(self, first.handle, key, std::move(context));
}

// A read the first tier had no value for (or failed): on to the key's flight, which loads it
// for a get_or_compute; with no other tier, a miss.
void after_first_tier(self_ptr self, const std::string& key, bool failed,
                      const caf::message& context, caf::typed_response_promise<lookup>& rp) {
  auto& st = self->state;
  ++st.first_tier_misses;
  if (failed)
    ++st.stats.tier_errors;
  if (context.match_elements<compute_options, loader_ref>()) {
    rp.delegate(flight_for(self, key, 0), join_atom::value, context.get_as<compute_options>(0),
                context.get_as<loader_ref>(1));
  } else if (context.match_elements<compute_options, loader_ref, fleet_atom>()) {
    rp.delegate(flight_for(self, key, 0, nullptr, false), join_atom::value,
                context.get_as<compute_options>(0), context.get_as<loader_ref>(1));
  } else if (st.tiers->size() == 1) {
    ++st.stats.misses;
    rp.deliver(lookup{});
  } else {
    rp.delegate(flight_for(self, key, 1), join_atom::value);
  }
}

// Starts the eager refresh of `key` unless a flight of the key runs already (a load, or
// another refresh): at most one per key.
void start_refresh(self_ptr self, const std::string& key, compute_options opts, loader_ref loader) {
  auto& st = self->state;
  if (st.flights.running(key))
    return;
  ++st.stats.eager_refreshes;
  flight_params refresh;
  refresh.refresh = true;
  refresh.options = std::move(opts);
  refresh.loader = std::move(loader);
  flight_for(self, key, 0, &refresh);
}

// A get_or_compute with eager refresh: as `probe`, but the answer comes back here (one hop
// more than a plain hit) so that a value near its TTL can be refreshed after it went out.
caf::result<lookup> read_then_refresh(self_ptr self, const std::string& key, compute_options opts,
                                      loader_ref loader) {
  auto& st = self->state;
  ++st.fast_gets;
  st.outbox.send_ahead_of(tier_order::read);
  auto rp = self->make_response_promise<lookup>();
  auto context = caf::make_message(opts, loader);
  auto checked = [=](lookup res) mutable {
    bool due = due_for_refresh(self->state, key, res, opts);
    rp.deliver(std::move(res));
    if (due)
      start_refresh(self, key, std::move(opts), std::move(loader));
  };
  if (!st.tiers->front().view) {
    // The tier answers as it keeps values: checked here, a miss on to the flight.
    self->request(st.tiers->front().handle, tier_wait(st, 0), get_atom::value, key)
        .then(
            [=](lookup& found) mutable {
              admit_first_tier(self, std::move(found), [=](lookup res, bool) mutable {
                if (res.found)
                  checked(std::move(res));
                else
                  after_first_tier(self, key, false, context, rp);
              });
            },
            [=](caf::error&) mutable { after_first_tier(self, key, true, context, rp); });
    return rp;
  }
  // No timeout of our own, as for a get passed on: the first tier answers a hit, and a miss
  // comes back to the flight, which answers within the load's deadline.
  self->request(st.tiers->front().handle, caf::infinite, get_atom::value, key, miss_route{self},
                context)
      .then(
          [=](lookup& res) mutable {
            bool due = due_for_refresh(self->state, key, res, opts);
            rp.deliver(std::move(res));
            if (due)
              start_refresh(self, key, std::move(opts), std::move(loader));
          },
          [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

} // namespace

void remember_ttl(coordinator_state& st, const std::string& key, const flight_report& report) {
  if (report.loaded_ttl_ms == 0)
    return;
  if (!report.ttl_chosen) {
    st.chosen_ttls.erase(key);
    return;
  }
  // A bound, not a cache: past it, refreshes measure against the call's TTL again until the
  // key's next load.
  if (st.chosen_ttls.size() >= coordinator_state::max_chosen_ttls)
    st.chosen_ttls.clear();
  st.chosen_ttls[key] = report.loaded_ttl_ms;
}

caf::result<lookup> get_value(self_ptr self, const std::string& key) {
  auto& st = self->state;
  if (auto err = check_key(st, key)) {
    ++st.stats.rejected;
    return err;
  }
  ++st.stats.requests;
  if (auto flight = st.flights.join(key))
    return self->delegate(*flight, join_atom::value);
  return probe(self, key, caf::message{});
}

caf::result<lookup> get_or_compute(self_ptr self, const std::string& key, compute_options opts,
                                   loader_ref loader, bool retry, bool route) {
  auto& st = self->state;
  if (!retry) {
    if (auto err = check_key(st, key)) {
      ++st.stats.rejected;
      return err;
    }
    if (!(opts.eager_refresh >= 0 && opts.eager_refresh < 1)) {
      ++st.stats.rejected;
      return make_error(errc::invalid_config, "eager_refresh must be at least 0 and below 1, not " +
                                                  std::to_string(opts.eager_refresh));
    }
    ++st.stats.requests;
  }
  // A key with a flight is not in the first tier yet: join the flight directly.
  if (auto flight = st.flights.join(key))
    return self->delegate(*flight, join_atom::value, std::move(opts), std::move(loader));
  if (opts.eager_refresh > 0)
    return read_then_refresh(self, key, std::move(opts), std::move(loader));
  if (!route)
    return probe(self, key,
                 caf::make_message(std::move(opts), std::move(loader), fleet_atom::value));
  return probe(self, key, caf::make_message(std::move(opts), std::move(loader)));
}

caf::result<lookup> serve_for_peer(self_ptr self, const std::string& key, compute_options opts,
                                   loader_ref loader) {
  ++self->state.stats.fleet_served;
  // The node that asked refreshes for itself.
  opts.eager_refresh = 0;
  return get_or_compute(self, key, std::move(opts), std::move(loader), false, false);
}

caf::result<lookup> after_miss(self_ptr self, const std::string& key, bool failed,
                               const caf::message& context) {
  // The miss is a read arriving now: the flight it goes on to reads the tiers below, after
  // the sets queued before it.
  self->state.outbox.send_ahead_of(tier_order::read);
  auto rp = self->make_response_promise<lookup>();
  after_first_tier(self, key, failed, context, rp);
  return rp;
}

void send_read_batch(self_ptr self, std::shared_ptr<std::vector<queued_read>> batch,
                     batch_queue<queued_read>::completion done) {
  fan_out<read_batch>(
      self, tier_order::unordered, {0},
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
        auto failed = failed_reads(answer, batch->size());
        // Each read of a failed batch counts in after_first_tier.
        uncount_failed_batches(self->state, answers);
        for (size_t j = 0; j < batch->size(); ++j) {
          auto& r = (*batch)[j];
          deliver_first_tier(self, r.key, failed[j] ? lookup{} : std::move(answer->results[j]),
                             failed[j], r.context, r.rp);
        }
        done();
      });
}

void deliver_first_tier(self_ptr self, const std::string& key, lookup res, bool failed,
                        const caf::message& context, caf::typed_response_promise<lookup> rp) {
  if (failed) {
    after_first_tier(self, key, true, context, rp);
    return;
  }
  admit_first_tier(self, std::move(res), [=](lookup res, bool) mutable {
    if (res.found)
      rp.deliver(std::move(res));
    else
      after_first_tier(self, key, false, context, rp);
  });
}

} // namespace mtcache::detail

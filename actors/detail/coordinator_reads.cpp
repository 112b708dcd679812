// Reads: a get goes to the first tier, which answers a hit itself; a miss comes back to the
// coordinator and goes on to the key's flight, which walks the tiers below (and loads, for a
// get_or_compute). Requests for a key whose flight runs join it directly.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/typed_response_promise.hpp>

#include "mtcache/actors/detail/coordinator_state.hpp"
#include "mtcache/actors/detail/fan_out.hpp"
#include "mtcache/actors/detail/flight.hpp"

namespace mtcache::detail {

namespace {

using self_ptr = coordinator_ptr;

// The flight of `key`, spawned if none runs; it walks the tiers from `first_tier` on.
flight_actor flight_for(self_ptr self, const std::string& key, uint32_t first_tier) {
  auto& st = self->state;
  return st.flights.spawn_if_absent(key, [&](uint64_t id) {
    flight_params params;
    params.key = key;
    params.id = id;
    params.tiers = st.tiers;
    params.first_tier = first_tier;
    params.tier_timeout = st.opts.tier_timeout;
    params.load_timeout = st.opts.load_timeout;
    params.max_value_bytes = st.opts.max_value_bytes;
    params.fail_safe = st.opts.fail_safe;
    params.seed = st.rng();
    return spawn_flight(self, std::move(params));
  });
}

// The first tier answers a hit itself; a miss comes back with `context`.
caf::result<lookup> probe(self_ptr self, const std::string& key, caf::message context) {
  auto& st = self->state;
  ++st.fast_gets;
  return st.outbox.read(self, st.tiers->front().handle, key, std::move(context));
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

} // namespace

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
                                   loader_actor loader, bool retry) {
  auto& st = self->state;
  if (!retry) {
    if (auto err = check_key(st, key)) {
      ++st.stats.rejected;
      return err;
    }
    ++st.stats.requests;
  }
  // A key with a flight is not in the first tier yet: join the flight directly.
  if (auto flight = st.flights.join(key))
    return self->delegate(*flight, join_atom::value, std::move(opts), std::move(loader));
  return probe(self, key, caf::make_message(std::move(opts), std::move(loader)));
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
        done();
      });
}

} // namespace mtcache::detail

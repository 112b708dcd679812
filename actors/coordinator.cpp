#include "actors/coordinator.hpp"

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

#include "actors/flight.hpp"
#include "codec/glob.hpp"
#include "messages/error.hpp"
#include "runtime/log.hpp"

namespace mtcache {

namespace {

struct flight_entry {
  flight_actor handle;
  uint64_t id = 0;
  // Set when the key was written, removed or invalidated after the flight started: its
  // value is older than what the tiers now hold, so its fill is refused.
  bool superseded = false;
};

struct coordinator_state {
  std::shared_ptr<const tier_chain> tiers;
  cache_options opts;
  std::unordered_map<std::string, flight_entry> flights;
  uint64_t next_flight = 0;
  cache_stats stats;
  // First-tier hits are answered by the tier; they are the gets sent there minus the
  // misses that came back.
  uint64_t fast_gets = 0;
  uint64_t first_tier_misses = 0;
  std::mt19937_64 rng;

  static inline const char* name = "mtcache.coordinator";
};

using self_ptr = coordinator_actor::stateful_pointer<coordinator_state>;

caf::error check_key(const coordinator_state& st, const std::string& key) {
  if (key.empty())
    return make_error(errc::invalid_key, "the key is empty");
  if (key.size() > st.opts.max_key_bytes)
    return make_error(errc::invalid_key, "the key has " + std::to_string(key.size()) +
                                             " bytes, the limit is " +
                                             std::to_string(st.opts.max_key_bytes));
  return caf::none;
}

caf::error check_value(const coordinator_state& st, const bytes& value) {
  if (value.size() > st.opts.max_value_bytes)
    return make_error(errc::value_too_large, "the value has " + std::to_string(value.size()) +
                                                 " bytes, the limit is " +
                                                 std::to_string(st.opts.max_value_bytes));
  return caf::none;
}

caf::expected<glob> check_pattern(const coordinator_state& st, const std::string& pattern) {
  if (pattern.empty())
    return make_error(errc::invalid_pattern, "the pattern is empty");
  std::string reason;
  auto compiled = glob::compile(pattern, &reason, st.opts.max_key_bytes);
  if (!compiled)
    return make_error(errc::invalid_pattern, std::move(reason));
  if (!st.opts.allow_match_all && compiled->matches_everything())
    return make_error(errc::invalid_pattern,
                      "'" + pattern + "' matches every key; set allow_match_all to permit it");
  return std::move(*compiled);
}

// Sends one request per target tier and calls `done` with every tier's outcome, in target
// order, once all have answered or timed out.
template <class Reply, class Send, class Done>
void fan_out(self_ptr self, std::vector<size_t> targets, Send send, Done done) {
  struct round {
    std::vector<size_t> targets;
    std::vector<caf::expected<Reply>> results;
    size_t outstanding;
    Done done;
  };
  auto n = targets.size();
  auto r = std::make_shared<round>(round{
      std::move(targets), std::vector<caf::expected<Reply>>(n, caf::error{}), n, std::move(done)});
  if (n == 0) {
    r->done(r->targets, r->results);
    return;
  }
  for (size_t k = 0; k < n; ++k) {
    auto tier = (*self->state.tiers)[r->targets[k]].handle;
    send(tier, r->targets[k])
        .then(
            [=](Reply& x) {
              r->results[k] = std::move(x);
              if (--r->outstanding == 0)
                r->done(r->targets, r->results);
            },
            [=](caf::error& err) {
              ++self->state.stats.tier_errors;
              r->results[k] = std::move(err);
              if (--r->outstanding == 0)
                r->done(r->targets, r->results);
            });
  }
}

std::vector<size_t> all_tiers(const coordinator_state& st) {
  std::vector<size_t> out(st.tiers->size());
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = i;
  return out;
}

// Which of `targets` took a write and which failed, and why.
template <class T>
write_ack to_ack(const coordinator_state& st, const std::vector<size_t>& targets,
                 const std::vector<caf::expected<T>>& results) {
  write_ack ack;
  for (size_t k = 0; k < targets.size(); ++k) {
    if (results[k])
      ++ack.written;
    else
      ack.failed.push_back({(*st.tiers)[targets[k]].cfg.level, results[k].error()});
  }
  return ack;
}

// Writes `value` into `targets`, each with `ttl_of(index)`; `done` gets the write_ack.
template <class TtlOf, class Done>
void write_tiers(self_ptr self, const std::string& key, const bytes& value,
                 std::vector<size_t> targets, TtlOf ttl_of, Done done) {
  auto timeout = self->state.opts.tier_timeout;
  fan_out<ok_atom>(
      self, std::move(targets),
      [=](const tier_actor& tier, size_t i) {
        return self->request(tier, timeout, put_atom::value, key, value, ttl_of(i));
      },
      [=](const std::vector<size_t>& targets,
          std::vector<caf::expected<ok_atom>>& results) mutable {
        done(to_ack(self->state, targets, results));
      });
}

// Answers a write with its ack, or with an error when no tier took it.
void deliver_ack(caf::typed_response_promise<write_ack>& rp, write_ack ack) {
  if (ack.written == 0 && !ack.failed.empty()) {
    rp.deliver(make_error(errc::backend_unavailable, "no tier accepted the write",
                          ack.failed.front().reason));
    return;
  }
  rp.deliver(std::move(ack));
}

void supersede(coordinator_state& st, const std::string& key) {
  if (auto i = st.flights.find(key); i != st.flights.end())
    i->second.superseded = true;
}

void supersede_matching(coordinator_state& st, const glob& pattern) {
  for (auto& [key, flight] : st.flights)
    if (pattern.matches(key))
      flight.superseded = true;
}

// Removes `key` from every tier (after superseding its flight); `done` gets the write_ack.
template <class Done>
void remove_everywhere(self_ptr self, const std::string& key, Done done) {
  supersede(self->state, key);
  fan_out<uint64_t>(
      self, all_tiers(self->state),
      [=](const tier_actor& tier, size_t) {
        return self->request(tier, self->state.opts.tier_timeout, delete_atom::value, key);
      },
      [=](const std::vector<size_t>& targets,
          std::vector<caf::expected<uint64_t>>& results) mutable {
        done(to_ack(self->state, targets, results));
      });
}

flight_actor flight_for(self_ptr self, const std::string& key, uint32_t first_tier) {
  auto& st = self->state;
  auto i = st.flights.find(key);
  if (i != st.flights.end())
    return i->second.handle;
  flight_params params;
  params.key = key;
  params.id = ++st.next_flight;
  params.tiers = st.tiers;
  params.first_tier = first_tier;
  params.tier_timeout = st.opts.tier_timeout;
  params.load_timeout = st.opts.load_timeout;
  params.max_value_bytes = st.opts.max_value_bytes;
  params.fail_safe = st.opts.fail_safe;
  params.seed = st.rng();
  auto handle = spawn_flight(self, std::move(params));
  st.flights.emplace(key, flight_entry{handle, st.next_flight, false});
  return handle;
}

// Reads go to the first tier, which answers a hit itself; a miss comes back to the
// coordinator with `context`: empty for a get, (compute_options, loader) for get_or_compute.
caf::delegated<lookup> probe(self_ptr self, const std::string& key, caf::message context) {
  ++self->state.fast_gets;
  return self->delegate(self->state.tiers->front().handle, get_atom::value, key, miss_route{self},
                        std::move(context));
}

// The flight of `key` if one is running and its value is still current. Requests for such a
// key skip the first tier: the flight writes it there before it answers anyone.
const flight_actor* live_flight(const coordinator_state& st, const std::string& key) {
  auto i = st.flights.find(key);
  return i != st.flights.end() && !i->second.superseded ? &i->second.handle : nullptr;
}

caf::delegated<lookup> compute(self_ptr self, const std::string& key, compute_options opts,
                               loader_actor loader) {
  if (auto flight = live_flight(self->state, key))
    return self->delegate(*flight, join_atom::value, std::move(opts), std::move(loader));
  return probe(self, key, caf::make_message(std::move(opts), std::move(loader)));
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
}

coordinator_actor::behavior_type coordinator(self_ptr self, tier_chain tiers, cache_options opts,
                                             std::vector<caf::actor> owned) {
  auto& st = self->state;
  st.stats.tier_hits.resize(tiers.size());
  st.tiers = std::make_shared<const tier_chain>(std::move(tiers));
  st.opts = opts;
  st.rng.seed(opts.seed != 0 ? opts.seed
                             : static_cast<uint64_t>(
                                   std::chrono::steady_clock::now().time_since_epoch().count()));
  // Flights hold the coordinator, so it only ends by an exit message: pass it on to them.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    for (auto& [key, flight] : self->state.flights)
      self->send_exit(flight.handle, msg.reason);
    self->quit(msg.reason);
  });
  self->attach_functor([owned](const caf::error& reason) {
    for (auto& a : owned)
      caf::anon_send_exit(a, reason ? caf::exit_reason::user_shutdown : caf::exit_reason::normal);
  });
  return {
      [=](get_atom, const std::string& key) -> caf::result<lookup> {
        auto& st = self->state;
        if (auto err = check_key(st, key)) {
          ++st.stats.rejected;
          return err;
        }
        ++st.stats.requests;
        // A key with a flight is not in the first tier yet: join the flight directly.
        if (auto flight = live_flight(st, key))
          return self->delegate(*flight, join_atom::value);
        return probe(self, key, caf::message{});
      },
      [=](miss_atom, const std::string& key, bool failed,
          const caf::message& context) -> caf::result<lookup> {
        auto& st = self->state;
        ++st.first_tier_misses;
        if (failed)
          ++st.stats.tier_errors;
        if (context.match_elements<compute_options, loader_actor>())
          return self->delegate(flight_for(self, key, 0), join_atom::value,
                                context.get_as<compute_options>(0),
                                context.get_as<loader_actor>(1));
        if (st.tiers->size() == 1) {
          ++st.stats.misses;
          return lookup{};
        }
        return self->delegate(flight_for(self, key, 1), join_atom::value);
      },
      [=](put_atom, const std::string& key, const bytes& value,
          const strategy& ttl) -> caf::result<write_ack> {
        auto& st = self->state;
        if (auto err = check_key(st, key); err || (err = check_value(st, value))) {
          ++st.stats.rejected;
          return err;
        }
        ++st.stats.sets;
        supersede(st, key);
        auto rp = self->make_response_promise<write_ack>();
        auto base = ttl.ttl();
        write_tiers(
            self, key, value, all_tiers(st),
            [=](size_t i) { return (*self->state.tiers)[i].cfg.scale(base); },
            [=](write_ack ack) mutable { deliver_ack(rp, std::move(ack)); });
        return rp;
      },
      [=](delete_atom, const std::string& key) -> caf::result<write_ack> {
        auto& st = self->state;
        if (auto err = check_key(st, key)) {
          ++st.stats.rejected;
          return err;
        }
        ++st.stats.removes;
        auto rp = self->make_response_promise<write_ack>();
        remove_everywhere(self, key,
                          [=](write_ack ack) mutable { deliver_ack(rp, std::move(ack)); });
        return rp;
      },
      [=](delete_atom, match_atom, const std::string& pattern) -> caf::result<uint64_t> {
        auto& st = self->state;
        auto compiled = check_pattern(st, pattern);
        if (!compiled) {
          ++st.stats.rejected;
          return std::move(compiled.error());
        }
        supersede_matching(st, *compiled);
        auto rp = self->make_response_promise<uint64_t>();
        fan_out<uint64_t>(
            self, all_tiers(st),
            [=](const tier_actor& tier, size_t) {
              return self->request(tier, self->state.opts.tier_timeout, delete_atom::value,
                                   match_atom::value, pattern);
            },
            [=](const std::vector<size_t>&, std::vector<caf::expected<uint64_t>>& results) mutable {
              uint64_t removed = 0;
              caf::error first_error;
              size_t failures = 0;
              for (auto& r : results) {
                if (r)
                  removed += *r;
                else if (++failures == 1)
                  first_error = r.error();
              }
              if (failures == results.size())
                rp.deliver(std::move(first_error));
              else
                rp.deliver(removed);
            });
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
      [=](corrupt_atom, const std::string& key) -> caf::result<ok_atom> {
        auto& st = self->state;
        if (auto err = check_key(st, key)) {
          ++st.stats.rejected;
          return err;
        }
        ++st.stats.decode_failed;
        log(log_level::warning, "coordinator",
            "the value of '" + key + "' does not decode; dropping it from every tier");
        auto rp = self->make_response_promise<ok_atom>();
        remove_everywhere(self, key, [=](write_ack) mutable { rp.deliver(ok_atom::value); });
        return rp;
      },
      [=](stats_atom) {
        auto& st = self->state;
        auto res = st.stats;
        res.tier_hits[0] += st.fast_gets - st.first_tier_misses;
        res.in_flight = st.flights.size();
        return res;
      },
      [=](tierstats_atom) -> caf::result<std::vector<tier_stats>> {
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
      },
      [=](health_atom) -> caf::result<health_report> {
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
                if (results[k]) {
                  h = std::move(*results[k]);
                } else {
                  h.detail = self->system().render(results[k].error());
                }
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
      },
      [=](fill_atom, const std::string& key, uint64_t id, uint32_t tier, bytes& value,
          caf::timespan ttl) -> caf::result<ok_atom> {
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
  };
}

} // namespace

cache_actor spawn_coordinator(caf::actor_system& sys, tier_chain tiers, cache_options opts,
                              std::vector<caf::actor> owned) {
  return sys.spawn(coordinator, std::move(tiers), std::move(opts), std::move(owned));
}

} // namespace mtcache

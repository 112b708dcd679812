#include "mtcache/actors/detail/flight.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_clock.hpp>
#include <caf/exit_reason.hpp>
#include <caf/local_actor.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <algorithm>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "mtcache/actors/detail/fleet_members.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

namespace {

using promise = caf::typed_response_promise<lookup>;

struct flight_state {
  enum class phase : uint8_t { walking, loading, finishing };

  flight_params p;
  coordinator_actor coordinator;
  phase ph = phase::walking;
  std::vector<promise> gets;
  std::vector<promise> computes;
  loader_ref loader;
  compute_options opts;
  bool has_loader = false;
  // The outcome, kept while finishing for waiters that arrive late.
  bool has_value = false;
  lookup value;
  // Tier index the value came from; `tiers.size()` for a loaded value.
  size_t value_source = 0;
  // An expired value served by fail-safe after the soft timeout, while the load goes on.
  bool serving_stale = false;
  lookup stale;
  uint64_t load_seq = 0;
  caf::actor_clock::time_point load_started;
  // Fleet-wide flights: the members the owner is chosen from (an owner that could not serve
  // the load leaves them), and the owner asked, while it may answer.
  std::shared_ptr<const fleet_members> members;
  bool waiting_owner = false;
  caf::actor_addr owner;
  loader_ref relay;
  // Promotion draws, seeded by the coordinator so that tests are repeatable.
  std::minstd_rand rng;
  flight_report report;

  static inline const char* name = "mtcache.flight";
};

using self_ptr = flight_actor::stateful_pointer<flight_state>;

// Counts `n` answered waiters as hits of the value's source, or as misses for a loaded one.
void count_answered(flight_state& st, flight_report& into, size_t n) {
  if (st.value_source < st.p.tiers->size())
    into.tier_hits[st.value_source] += n;
  else
    into.misses += n;
}

void answer_all(std::vector<promise>& waiters, const lookup& res) {
  for (auto& rp : waiters)
    rp.deliver(res);
  waiters.clear();
}

void fail_all(std::vector<promise>& waiters, const caf::error& err) {
  for (auto& rp : waiters)
    rp.deliver(err);
  waiters.clear();
}

bool fail_safe(const flight_state& st) {
  return st.opts.fail_safe || st.p.fail_safe;
}

// Reports to the coordinator. Called before the last answers go out, so that a caller who
// got its answer and then asks for stats sees them counted.
void finish(self_ptr self) {
  auto& st = self->state;
  st.ph = flight_state::phase::finishing;
  self->request(st.coordinator, st.p.tier_timeout, done_atom::value, st.p.key, st.p.id, st.report)
      .then([=](ok_atom) { self->quit(); }, [=](caf::error&) { self->quit(); });
}

// Counts one answer that the flight's own report no longer covers (it went out, or the
// waiter is answered before it goes out), telling the coordinator before the answer goes
// out: a caller that then asks for stats sees it counted.
template <class Count>
void report_one(self_ptr self, Count count) {
  auto& st = self->state;
  flight_report one;
  one.tier_hits.resize(st.p.tiers->size());
  count(one);
  self->send(st.coordinator, done_atom::value, std::move(one));
}

void finish_with_value(self_ptr self, lookup res, size_t source) {
  auto& st = self->state;
  st.has_value = true;
  st.value = std::move(res);
  st.value_source = source;
  count_answered(st, st.report, st.gets.size() + st.computes.size());
  finish(self);
  answer_all(st.gets, st.value);
  answer_all(st.computes, st.value);
}

// Where a value goes, nearest tier first, with the TTL each tier keeps it for: a loaded value
// (source == tiers.size()) into every tier; a value found in tier `source` into the tiers above
// it, if that tier promotes and the 1/N draw passes.
std::vector<std::pair<uint32_t, caf::timespan>> fill_plan(flight_state& st, size_t source,
                                                          caf::timespan ttl) {
  auto& tiers = *st.p.tiers;
  std::vector<std::pair<uint32_t, caf::timespan>> plan;
  bool loaded = source == tiers.size();
  if (!loaded) {
    auto& cfg = tiers[source].cfg;
    if (source == 0 || !cfg.promotion)
      return plan;
    auto n = cfg.promotion_frequency;
    if (n > 1 && std::uniform_int_distribution<uint32_t>{0, n - 1}(st.rng) != 0)
      return plan;
  }
  for (auto i = static_cast<uint32_t>(source); i-- > 0;)
    plan.emplace_back(i, tiers[i].cfg.scale(ttl));
  return plan;
}

void count_promotion(flight_state& st, size_t from, size_t into) {
  auto n = st.p.tiers->size();
  auto& pairs = st.report.promotions_by_pair;
  if (pairs.empty())
    pairs.resize(n * n);
  ++pairs[from * n + into];
  ++st.report.promotions;
}

// Writes a value through the coordinator, then answers everyone with it. Waiters are
// answered only after the tiers acknowledged, so a request that finds this flight gone is
// served from the first tier.
void write_then_answer(self_ptr self, lookup res, size_t source,
                       std::vector<std::pair<uint32_t, caf::timespan>> plan) {
  auto& st = self->state;
  if (plan.empty()) {
    finish_with_value(self, std::move(res), source);
    return;
  }
  auto left = std::make_shared<size_t>(plan.size());
  bool promotion = source < st.p.tiers->size();
  for (auto& [tier, tier_ttl] : plan) {
    self->request(st.coordinator, st.p.tier_timeout * 2, fill_atom::value, st.p.key, st.p.id, tier,
                  res.value, tier_ttl)
        .then(
            [=](ok_atom) {
              if (promotion)
                count_promotion(self->state, source, tier);
              if (--*left == 0)
                finish_with_value(self, res, source);
            },
            [=](caf::error& err) {
              auto& report = self->state.report;
              if (is(err, errc::superseded))
                report.superseded_fills = 1;
              else
                ++report.tier_errors;
              if (--*left == 0)
                finish_with_value(self, res, source);
            });
  }
}

caf::timespan ttl_of(const lookup& res) {
  return res.ttl_ms < 0 ? caf::timespan{0} : caf::timespan{std::chrono::milliseconds{res.ttl_ms}};
}

void fill_then_answer(self_ptr self, lookup res, size_t source) {
  // A found value about to expire is not worth promoting.
  auto plan = res.ttl_ms == 0 ? std::vector<std::pair<uint32_t, caf::timespan>>{}
                              : fill_plan(self->state, source, ttl_of(res));
  write_then_answer(self, std::move(res), source, std::move(plan));
}

void start_load(self_ptr self);

void load_here(self_ptr self);

void walk(self_ptr self, size_t i) {
  auto& st = self->state;
  auto& tiers = *st.p.tiers;
  if (i >= tiers.size()) {
    st.report.misses += st.gets.size();
    if (!st.has_loader)
      finish(self);
    answer_all(st.gets, lookup{});
    if (st.has_loader)
      start_load(self);
    return;
  }
  self->request(tiers[i].handle, st.p.tier_timeout, get_atom::value, st.p.key)
      .then(
          [=](lookup& res) {
            if (!res.found) {
              walk(self, i + 1);
              return;
            }
            res.level = (*self->state.p.tiers)[i].cfg.level;
            if (i == 0) {
              finish_with_value(self, std::move(res), 0);
              return;
            }
            fill_then_answer(self, std::move(res), i);
          },
          [=](caf::error&) {
            ++self->state.report.tier_errors;
            walk(self, i + 1);
          });
}

// Asks the first tier for an expired value kept for fail-safe; `then` gets it or a miss.
template <class F>
void fetch_stale(self_ptr self, F then) {
  auto& st = self->state;
  self->request(st.p.tiers->front().handle, st.p.tier_timeout, get_atom::value, stale_atom::value,
                st.p.key)
      .then([=](lookup& res) mutable { then(std::move(res)); },
            [=](caf::error&) mutable { then(lookup{}); });
}

void load_failed(self_ptr self, caf::error err) {
  auto& st = self->state;
  if (err == caf::sec::request_timeout) {
    ++st.report.load_timeouts;
    auto limit = st.opts.timeout.count() > 0
                     ? std::chrono::duration_cast<std::chrono::milliseconds>(st.opts.timeout)
                     : st.p.load_timeout;
    err = make_error(errc::timeout, "load of '" + st.p.key + "' took longer than " +
                                        std::to_string(limit.count()) + " ms");
  } else {
    ++st.report.load_errors;
  }
  // The refreshed value stays in the tiers until its own TTL ends.
  if (st.p.refresh)
    st.report.eager_refresh_failures = 1;
  if (!fail_safe(st)) {
    st.report.failed += st.computes.size();
    finish(self);
    fail_all(st.computes, err);
    return;
  }
  auto on_stale = [=](lookup stale) {
    auto& st = self->state;
    if (st.serving_stale || stale.found) {
      auto& use = st.serving_stale ? st.stale : stale;
      use.stale = true;
      st.report.fail_safe_activations = 1;
      st.report.stale_served += st.computes.size();
      finish(self);
      answer_all(st.computes, use);
    } else {
      st.report.failed += st.computes.size();
      finish(self);
      fail_all(st.computes, err);
    }
  };
  if (st.serving_stale)
    on_stale(st.stale);
  else
    fetch_stale(self, on_stale);
}

// A loaded value: checked, then written to every tier with the loader's TTL if it chose one
// (`ttl` zero: the call's), and answered.
void loaded_value(self_ptr self, bytes value, caf::timespan ttl) {
  auto& st = self->state;
  st.report.load_duration = self->clock().now() - st.load_started;
  if (st.p.max_value_bytes > 0 && value.size() > st.p.max_value_bytes) {
    load_failed(self, make_error(errc::value_too_large, "loaded value of " +
                                                            std::to_string(value.size()) +
                                                            " bytes exceeds the limit"));
    return;
  }
  st.report.ttl_chosen = ttl.count() != 0;
  if (ttl.count() == 0)
    ttl = st.opts.ttl.ttl();
  // Rounded up: a positive TTL under 1 ms must not become "never expires".
  auto ms = ttl.count() > 0 ? std::chrono::ceil<std::chrono::milliseconds>(ttl).count() : -1;
  st.report.loaded_ttl_ms = ms;
  lookup res{true, std::move(value), ms, 0, false};
  fill_then_answer(self, std::move(res), st.p.tiers->size());
}

std::chrono::milliseconds load_limit(const flight_state& st) {
  return st.opts.timeout.count() > 0
             ? std::chrono::duration_cast<std::chrono::milliseconds>(st.opts.timeout)
             : st.p.load_timeout;
}

// Starts load number `seq` (here or on the owner node): from now on it is what the waiters
// wait for, and fail-safe's soft timeout runs.
uint64_t begin_load(self_ptr self) {
  auto& st = self->state;
  st.ph = flight_state::phase::loading;
  auto seq = ++st.load_seq;
  if (fail_safe(st) && st.opts.soft_timeout.count() > 0 && st.opts.soft_timeout < load_limit(st))
    self->delayed_send(self, st.opts.soft_timeout, caf::timeout_atom::value, seq);
  return seq;
}

void load_here(self_ptr self) {
  auto& st = self->state;
  begin_load(self);
  ++st.report.loads;
  auto timeout = load_limit(st);
  st.load_started = self->clock().now();
  auto on_error = [=](caf::error& err) {
    self->state.report.load_duration = self->clock().now() - self->state.load_started;
    load_failed(self, std::move(err));
  };
  if (st.loader.timed) {
    self->request(st.loader.timed, timeout, load_atom::value, st.p.key)
        .then([=](loaded& res) { loaded_value(self, std::move(res.value), res.ttl); }, on_error);
    return;
  }
  self->request(st.loader.plain, timeout, load_atom::value, st.p.key)
      .then([=](bytes& value) { loaded_value(self, std::move(value), caf::timespan{0}); },
            on_error);
}

// -- fleet-wide flights: the key's owner node loads for every node -------------------------

// The owner could not serve the load (gone, cut off, too slow, shutting down): the owner
// among the remaining members loads, which is this node or the one every other node that
// lost the same owner turns to next, so the fleet still loads once more at most.
void bypass_owner(self_ptr self) {
  auto& st = self->state;
  st.waiting_owner = false;
  self->demonitor(st.owner);
  st.report.fleet_fallbacks = 1;
  auto rest = std::make_shared<fleet_members>(*st.members);
  auto& peers = rest->peers;
  peers.erase(std::remove_if(peers.begin(), peers.end(),
                             [&](auto& peer) { return peer.second.address() == st.owner; }),
              peers.end());
  st.members = std::move(rest);
  start_load(self);
}

// The owner's answer: a value it loaded (or found) goes into this node's own tiers above the
// first shared one, which the owner wrote, and to every waiter.
void owner_answered(self_ptr self, lookup res) {
  auto& st = self->state;
  st.waiting_owner = false;
  self->demonitor(st.owner);
  if (!res.found) {
    bypass_owner(self);
    return;
  }
  if (res.stale) {
    st.report.stale_served += st.computes.size();
    finish(self);
    answer_all(st.computes, res);
    return;
  }
  auto& tiers = *st.p.tiers;
  std::vector<std::pair<uint32_t, caf::timespan>> plan;
  auto ttl = ttl_of(res);
  for (uint32_t i = 0; i < tiers.size() && !tiers[i].cfg.shared && res.ttl_ms != 0; ++i)
    plan.emplace_back(i, tiers[i].cfg.scale(ttl));
  std::reverse(plan.begin(), plan.end());
  write_then_answer(self, std::move(res), tiers.size(), std::move(plan));
}

// An error from the owner. CAF's own errors (no connection, the owner gone, our wait over)
// and a shutting-down owner mean it could not load; any other error is the load's outcome
// there, which reaches the waiters as a load here would have.
void owner_failed(self_ptr self, caf::error err) {
  if (err.category() == caf::atom("system") || is(err, errc::shutting_down)) {
    bypass_owner(self);
    return;
  }
  auto& st = self->state;
  st.waiting_owner = false;
  self->demonitor(st.owner);
  load_failed(self, std::move(err));
}

// What the owner node calls to load: a relay to the loader of this flight's first waiter
// that exits with the flight. The loader itself never leaves the node: an actor handle sent
// over the network stays in CAF's registry until its actor exits, which would keep a loader
// its owner dropped alive for good.
template <class Loader>
Loader relay_to(self_ptr self, Loader target) {
  auto relay =
      self->spawn([target](typename Loader::pointer relay) -> typename Loader::behavior_type {
        return {
            [=](load_atom, const std::string& key) {
              return relay->delegate(target, load_atom::value, key);
            },
        };
      });
  self->attach_functor([relay] { caf::anon_send_exit(relay, caf::exit_reason::user_shutdown); });
  return relay;
}

loader_ref relay_of(self_ptr self, const loader_ref& loader) {
  if (loader.timed)
    return {{}, relay_to(self, loader.timed)};
  return {relay_to(self, loader.plain), {}};
}

void ask_owner(self_ptr self, const peer_inbox_actor& owner) {
  auto& st = self->state;
  st.waiting_owner = true;
  st.report.fleet_forwarded = 1;
  st.owner = owner.address();
  self->monitor(owner);
  auto seq = begin_load(self);
  auto wait = st.p.fleet_owner_wait.count() > 0 ? st.p.fleet_owner_wait
                                                : load_limit(st) + st.p.tier_timeout;
  if (!st.relay.plain && !st.relay.timed)
    st.relay = relay_of(self, st.loader);
  self->request(owner, wait, compute_atom::value, st.p.key, st.opts, st.relay.plain, st.relay.timed)
      .then(
          [=](lookup& res) {
            if (self->state.load_seq == seq && self->state.waiting_owner)
              owner_answered(self, std::move(res));
          },
          [=](caf::error& err) {
            if (self->state.load_seq == seq && self->state.waiting_owner)
              owner_failed(self, std::move(err));
          });
}

void start_load(self_ptr self) {
  auto& st = self->state;
  if (st.members)
    if (auto* owner = st.members->owner_of(st.p.key)) {
      ask_owner(self, *owner);
      return;
    }
  load_here(self);
}

flight_actor::behavior_type flight(self_ptr self, coordinator_actor coordinator,
                                   flight_params params) {
  auto& st = self->state;
  st.coordinator = std::move(coordinator);
  st.report.tier_hits.resize(params.tiers->size());
  st.rng.seed(static_cast<std::minstd_rand::result_type>(params.seed));
  st.p = std::move(params);
  st.members = st.p.fleet;
  // The coordinator sends an exit message when it goes: answer every waiter first.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto err = make_error(errc::shutting_down, "the cache is shutting down");
    fail_all(self->state.gets, err);
    fail_all(self->state.computes, err);
    self->quit(msg.reason);
  });
  // The owner node's link dropped while it loaded for us.
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    if (st.waiting_owner && msg.source == st.owner)
      bypass_owner(self);
  });
  if (st.p.refresh) {
    st.has_loader = true;
    st.loader = std::move(st.p.refresh_loader);
    st.opts = std::move(st.p.refresh_options);
    start_load(self);
  } else {
    walk(self, st.p.first_tier);
  }
  return {
      [=](join_atom) -> caf::result<lookup> {
        auto& st = self->state;
        switch (st.ph) {
        case flight_state::phase::walking:
          st.gets.emplace_back(self->make_response_promise<lookup>());
          return st.gets.back();
        case flight_state::phase::loading:
          // No tier has the key while it loads.
          report_one(self, [](flight_report& r) { ++r.misses; });
          return lookup{};
        case flight_state::phase::finishing:
          break;
        }
        if (!st.has_value) {
          report_one(self, [](flight_report& r) { ++r.misses; });
          return lookup{};
        }
        report_one(self, [&](flight_report& r) { count_answered(st, r, 1); });
        return st.value;
      },
      [=](join_atom, compute_options& opts, loader_ref& loader) -> caf::result<lookup> {
        auto& st = self->state;
        if (st.ph == flight_state::phase::finishing) {
          if (!st.has_value)
            return self->delegate(st.coordinator, compute_atom::value, st.p.key, std::move(opts),
                                  std::move(loader), retry_atom::value);
          report_one(self, [&](flight_report& r) { count_answered(st, r, 1); });
          return st.value;
        }
        if (st.serving_stale) {
          report_one(self, [](flight_report& r) { ++r.stale_served; });
          return st.stale;
        }
        if (!st.has_loader) {
          st.has_loader = true;
          st.loader = std::move(loader);
          st.opts = std::move(opts);
        }
        st.computes.emplace_back(self->make_response_promise<lookup>());
        return st.computes.back();
      },
      [=](caf::timeout_atom, uint64_t seq) {
        auto& st = self->state;
        if (seq != st.load_seq || st.ph != flight_state::phase::loading || st.serving_stale)
          return;
        ++st.report.load_soft_timeouts;
        fetch_stale(self, [=](lookup stale) {
          auto& st = self->state;
          if (!stale.found || st.ph != flight_state::phase::loading)
            return;
          stale.stale = true;
          st.serving_stale = true;
          st.report.fail_safe_activations = 1;
          st.stale = std::move(stale);
          report_one(self, [n = st.computes.size()](flight_report& r) { r.stale_served += n; });
          answer_all(st.computes, st.stale);
        });
      },
  };
}

} // namespace

flight_actor spawn_flight(caf::local_actor* coordinator, flight_params params) {
  // Not linked: links live in a list that every unlink scans, which made 10 000 concurrent
  // flights quadratic. The coordinator sends its flights an exit message when it goes.
  auto handle = caf::actor_cast<coordinator_actor>(coordinator);
  return coordinator->system().spawn(flight, std::move(handle), std::move(params));
}

} // namespace mtcache::detail

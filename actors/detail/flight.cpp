#include "mtcache/actors/detail/flight.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_clock.hpp>
#include <caf/exit_reason.hpp>
#include <caf/local_actor.hpp>
#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <algorithm>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "mtcache/actors/detail/flight_state.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

namespace flight_steps {

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

// Reports to the coordinator. Called before the last answers go out, so that a caller who
// got its answer and then asks for stats sees them counted.
void finish(self_ptr self) {
  auto& st = self->state;
  // The value is in the tiers (or there is none): the lease's waiters may look.
  release_lease(self);
  st.ph = flight_state::phase::finishing;
  self->request(st.coordinator, st.p.tier_timeout, done_atom::value, st.p.key, st.p.id, st.report)
      .then([=](ok_atom) { self->quit(); }, [=](caf::error&) { self->quit(); });
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

namespace {

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

} // namespace

namespace {

using fill_targets = std::vector<std::pair<uint32_t, caf::timespan>>;

caf::timespan ttl_of(const lookup& res) {
  return res.ttl_ms < 0 ? caf::timespan{0} : caf::timespan{std::chrono::milliseconds{res.ttl_ms}};
}

// Writes a value through the coordinator into `plan`, then answers everyone with it. Waiters
// are answered only after the tiers acknowledged, so a request that finds this flight gone is
// served from the first tier.
void write_then_answer(self_ptr self, lookup res, size_t source, fill_targets plan) {
  auto& st = self->state;
  if (plan.empty()) {
    finish_with_value(self, std::move(res), source);
    return;
  }
  auto left = std::make_shared<size_t>(plan.size());
  bool promotion = source < st.p.tiers->size();
  auto stored = stored_form(res);
  for (auto& [tier, tier_ttl] : plan) {
    self->request(st.coordinator, st.p.tier_timeout * 2, fill_atom::value, st.p.key, st.p.id, tier,
                  stored, tier_ttl)
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

} // namespace

void fill_then_answer(self_ptr self, lookup res, size_t source) {
  // A found value about to expire is not worth promoting.
  auto plan = res.ttl_ms == 0 ? fill_targets{} : fill_plan(self->state, source, ttl_of(res));
  write_then_answer(self, std::move(res), source, std::move(plan));
}

void fill_local_then_answer(self_ptr self, lookup res) {
  auto& tiers = *self->state.p.tiers;
  fill_targets plan;
  auto ttl = ttl_of(res);
  for (uint32_t i = 0; i < tiers.size() && !tiers[i].cfg.shared && res.ttl_ms != 0; ++i)
    plan.emplace_back(i, tiers[i].cfg.scale(ttl));
  std::reverse(plan.begin(), plan.end());
  write_then_answer(self, std::move(res), tiers.size(), std::move(plan));
}

void admit_read(self_ptr self, lookup res, std::function<void(lookup)> then) {
  auto& st = self->state;
  auto wait = caf::duration{st.p.tier_timeout};
  admit_resolving(
      self, *st.p.tiers, [wait](size_t) { return wait; }, st.p.tags, std::move(res),
      [=](lookup res, bool hidden) {
        self->state.report.tags_hidden += hidden ? 1 : 0;
        then(std::move(res));
      });
}

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
          [=](lookup& found) {
            admit_read(self, std::move(found), [=](lookup res) {
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
            });
          },
          [=](caf::error&) {
            ++self->state.report.tier_errors;
            walk(self, i + 1);
          });
}

} // namespace flight_steps

namespace {

using namespace flight_steps;

// A bulk pass tells each flight it started its outcome once, while the flight still waits.
bool awaits_pass(const flight_state& st) {
  return st.p.bulk && st.ph == flight_state::phase::walking;
}

caf::error pass_misrouted() {
  return make_error(errc::malformed_message, "a bulk outcome for a flight that does not await one");
}

flight_actor::behavior_type flight(self_ptr self, coordinator_actor coordinator,
                                   flight_params params) {
  auto& st = self->state;
  st.coordinator = std::move(coordinator);
  st.report.tier_hits.resize(params.tiers->size());
  st.rng.seed(static_cast<std::minstd_rand::result_type>(params.seed));
  st.p = std::move(params);
  // The coordinator sends an exit message when it goes: answer every waiter first.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto err = make_error(errc::shutting_down, "the cache is shutting down");
    fail_all(self->state.gets, err);
    fail_all(self->state.computes, err);
    release_lease(self);
    self->quit(msg.reason);
  });
  st.members = std::move(st.p.fleet);
  self->set_down_handler([=](caf::down_msg& msg) { owner_down(self, msg); });
  if (st.p.refresh && !st.p.bulk) {
    st.has_loader = true;
    st.loader = std::move(st.p.loader);
    st.opts = std::move(st.p.options);
    start_load(self);
  } else if (st.p.bulk) {
    // Waits for the pass. Its loader, if it loads, stays the flight's: a single-key
    // get_or_compute joining meanwhile waits for the pass's load instead of starting one.
    st.has_loader = static_cast<bool>(st.p.loader.bulk);
    st.loader = std::move(st.p.loader);
    st.opts = std::move(st.p.options);
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
        keep_local_loader(self, loader);
        if (!st.has_loader) {
          st.has_loader = true;
          st.loader = std::move(loader);
          st.opts = std::move(opts);
        }
        st.computes.emplace_back(self->make_response_promise<lookup>());
        return st.computes.back();
      },
      [=](fill_atom, uint32_t tier, lookup& res) -> caf::result<lookup> {
        auto& st = self->state;
        if (!awaits_pass(st))
          return pass_misrouted();
        st.gets.emplace_back(self->make_response_promise<lookup>());
        auto rp = st.gets.back();
        auto from = tier < st.p.tiers->size() ? tier : 0u;
        admit_read(self, std::move(res), [=](lookup res) {
          if (!res.found)
            walk(self, from + 1);
          else if (from == 0)
            finish_with_value(self, std::move(res), 0);
          else
            fill_then_answer(self, std::move(res), from);
        });
        return rp;
      },
      [=](miss_atom) -> caf::result<lookup> {
        auto& st = self->state;
        if (!awaits_pass(st))
          return pass_misrouted();
        st.gets.emplace_back(self->make_response_promise<lookup>());
        auto rp = st.gets.back();
        // As a walk that found nothing: a get_or_compute that joined meanwhile loads now.
        walk(self, st.p.tiers->size());
        return rp;
      },
      [=](load_atom, bulk_entry& entry) -> caf::result<lookup> {
        auto& st = self->state;
        if (!awaits_pass(st))
          return pass_misrouted();
        st.ph = flight_state::phase::loading;
        st.pass_load = true;
        // An eager refresh has no waiter: the pass is answered at once, and not counted.
        if (st.p.refresh) {
          take_entry(self, std::move(entry));
          return lookup{};
        }
        st.computes.emplace_back(self->make_response_promise<lookup>());
        auto rp = st.computes.back();
        take_entry(self, std::move(entry));
        return rp;
      },
      [=](lease_atom, uint64_t seq) { poll_lease(self, seq); },
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
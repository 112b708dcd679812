// A flight's loads: one call of the loader (or the bulk pass's answer for the key), the
// value checked and written everywhere, or the failure answered (with fail-safe, by the
// expired value the first tier kept).

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <caf/sec.hpp>

#include "mtcache/actors/detail/flight_state.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail::flight_steps {

namespace {

bool fail_safe(const flight_state& st) {
  return st.opts.fail_safe || st.p.fail_safe;
}

} // namespace

void load_failed(self_ptr self, caf::error err) {
  auto& st = self->state;
  if (err == caf::sec::request_timeout) {
    if (!st.pass_load)
      ++st.report.load_timeouts;
    err = make_error(errc::timeout, "load of '" + st.p.key + "' took longer than " +
                                        std::to_string(load_limit(st).count()) + " ms");
  } else if (!st.pass_load) {
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
void loaded_value(self_ptr self, bytes value, caf::timespan ttl, std::vector<std::string> tags) {
  auto& st = self->state;
  if (!st.pass_load)
    st.report.load_duration = self->clock().now() - st.load_started;
  if (auto why = mtcache::check_tags(tags); !why.empty()) {
    load_failed(self, make_error(errc::loader_failed, "the loader answered invalid tags: " + why));
    return;
  }
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
  if (!tags.empty()) {
    res.tags = std::move(tags);
    res.created_us = unix_us();
  }
  fill_then_answer(self, std::move(res), st.p.tiers->size());
}

// A bulk loader's answer for this key: a value, no value (a miss, nothing cached) or an error.
void take_entry(self_ptr self, bulk_entry entry) {
  auto& st = self->state;
  if (entry.error) {
    load_failed(self, std::move(entry.error));
  } else if (!entry.found) {
    if (!st.pass_load)
      st.report.load_duration = self->clock().now() - st.load_started;
    finish_with_value(self, lookup{}, st.p.tiers->size());
  } else {
    loaded_value(self, std::move(entry.value), entry.ttl, std::move(entry.tags));
  }
}

std::chrono::milliseconds load_limit(const flight_state& st) {
  return st.opts.timeout.count() > 0
             ? std::chrono::duration_cast<std::chrono::milliseconds>(st.opts.timeout)
             : st.p.load_timeout;
}

uint64_t begin_load(self_ptr self) {
  auto& st = self->state;
  st.ph = flight_state::phase::loading;
  auto seq = ++st.load_seq;
  if (fail_safe(st) && st.opts.soft_timeout.count() > 0 && st.opts.soft_timeout < load_limit(st))
    self->delayed_send(self, st.opts.soft_timeout, caf::timeout_atom::value, seq);
  return seq;
}

void start_load(self_ptr self) {
  if (!hand_to_owner(self) && !load_under_lease(self))
    load_here(self);
}

void load_here(self_ptr self) {
  auto& st = self->state;
  ++st.report.loads;
  // A load that moved to another loader (its node went) ignores what the first one answers.
  auto seq = begin_load(self);
  watch_loader(self);
  auto timeout = load_limit(st);
  st.load_started = self->clock().now();
  auto current = [=] { return self->state.load_seq == seq; };
  auto on_error = [=](caf::error& err) {
    if (!current())
      return;
    self->state.report.load_duration = self->clock().now() - self->state.load_started;
    load_failed(self, std::move(err));
  };
  if (st.loader.bulk) {
    self->request(st.loader.bulk, timeout, load_atom::value, std::vector<std::string>{st.p.key})
        .then(
            [=](std::vector<bulk_entry>& entries) {
              if (entries.size() == 1)
                take_entry(self, std::move(entries[0]));
              else
                take_entry(self, bulk_entry::failure(make_error(errc::loader_failed,
                                                                "the bulk loader answered " +
                                                                    std::to_string(entries.size()) +
                                                                    " entries for 1 key")));
            },
            on_error);
    return;
  }
  if (st.loader.timed) {
    self->request(st.loader.timed, timeout, load_atom::value, st.p.key)
        .then(
            [=](loaded& res) {
              if (current())
                loaded_value(self, std::move(res.value), res.ttl, std::move(res.tags));
            },
            on_error);
    return;
  }
  self->request(st.loader.plain, timeout, load_atom::value, st.p.key)
      .then(
          [=](bytes& value) {
            if (current())
              loaded_value(self, std::move(value), caf::timespan{0});
          },
          on_error);
}

} // namespace mtcache::detail::flight_steps

#include "mtcache/actors/detail/coordinator_state.hpp"

#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

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

std::vector<size_t> all_tiers(const coordinator_state& st) {
  std::vector<size_t> out(st.tiers->size());
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = i;
  return out;
}

std::vector<size_t> local_tiers(const coordinator_state& st) {
  std::vector<size_t> out;
  for (size_t i = 0; i < st.tiers->size(); ++i)
    if (!(*st.tiers)[i].cfg.shared)
      out.push_back(i);
  return out;
}

void supersede(coordinator_state& st, const std::string& key) {
  if (auto i = st.flights.find(key); i != st.flights.end())
    i->second.superseded = true;
}

void supersede(coordinator_state& st, const glob& pattern) {
  for (auto& [key, flight] : st.flights)
    if (pattern.matches(key))
      flight.superseded = true;
}

void supersede_all(coordinator_state& st) {
  for (auto& entry : st.flights)
    entry.second.superseded = true;
}

const flight_actor* live_flight(const coordinator_state& st, const std::string& key) {
  auto i = st.flights.find(key);
  return i != st.flights.end() && !i->second.superseded ? &i->second.handle : nullptr;
}

flight_actor flight_for(coordinator_ptr self, const std::string& key, uint32_t first_tier) {
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

caf::duration tier_wait(const coordinator_state& st, size_t i) {
  if ((*st.tiers)[i].answers_in_time)
    return caf::infinite;
  return caf::duration{st.opts.tier_timeout};
}

namespace {

int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

void arm_sweep(coordinator_ptr self) {
  auto& st = self->state;
  if (st.sweep_armed || st.deadlines.empty())
    return;
  st.sweep_armed = true;
  auto interval = std::max(st.opts.tier_timeout / 4, std::chrono::milliseconds{5});
  self->delayed_send(self, interval, caf::tick_atom::value);
}

} // namespace

void watch_deadline(coordinator_ptr self, std::weak_ptr<void> alive, std::function<void()> expire) {
  auto& st = self->state;
  // Rounds mostly finish in order: dropping finished ones at the front keeps the queue as
  // short as the rounds in flight.
  while (!st.deadlines.empty() && st.deadlines.front().alive.expired())
    st.deadlines.pop_front();
  st.deadlines.push_back(
      {steady_ms() + st.opts.tier_timeout.count(), std::move(alive), std::move(expire)});
  arm_sweep(self);
}

void sweep_deadlines(coordinator_ptr self) {
  auto& st = self->state;
  st.sweep_armed = false;
  auto now = steady_ms();
  while (!st.deadlines.empty() && st.deadlines.front().at_ms <= now) {
    auto expire = std::move(st.deadlines.front().expire);
    st.deadlines.pop_front();
    expire();
  }
  arm_sweep(self);
}

void flush_later(coordinator_ptr self, size_t queued, size_t out) {
  auto& st = self->state;
  bool room = out < max_batches_out;
  if (queued >= max_batch || (room && self->mailbox().empty())) {
    flush_queued(self);
  } else if (room && !st.flush_sent) {
    st.flush_sent = true;
    self->send(self, caf::flush_atom::value);
  }
}

void flush_ready(coordinator_ptr self) {
  auto& st = self->state;
  if (st.write_batches_out < max_batches_out)
    flush_writes(self);
  if (st.read_batches_out < max_batches_out)
    flush_reads(self);
}

void flush_queued(coordinator_ptr self) {
  flush_writes(self);
  flush_reads(self);
}

caf::error tier_timeout_error(const coordinator_state& st) {
  return make_error(errc::timeout, "tier did not answer within " +
                                       std::to_string(st.opts.tier_timeout.count()) + " ms");
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

void deliver_ack(caf::typed_response_promise<write_ack>& rp, write_ack ack) {
  if (ack.written == 0 && !ack.failed.empty()) {
    rp.deliver(make_error(errc::backend_unavailable, "no tier accepted the write",
                          ack.failed.front().reason));
    return;
  }
  rp.deliver(std::move(ack));
}

void publish(coordinator_ptr self, invalidation change) {
  if (self->state.bridge)
    self->send(self->state.bridge, caf::publish_atom::value, std::move(change));
}

} // namespace mtcache::detail

// The cluster tier's picture of the cluster: the slot map from CLUSTER SLOTS, fetched at
// start, after MOVED, and while a primary cannot be reached (its replica may be taking
// over), at most a few times a second; and the stats per node.

#include <algorithm>
#include <chrono>
#include <functional>
#include <set>
#include <string>

#include <hiredis/hiredis.h>

#include "mtcache/actors/detail/redis_cluster_state.hpp"
#include "mtcache/redis/cluster_topology.hpp"

namespace mtcache::detail {

namespace {

// The least time between two CLUSTER SLOTS.
constexpr int64_t refresh_interval_ms = 100;

// The node to ask: a connected one, the next after the last asked, so that one node that
// answers badly does not stop the refresh; else one that is connecting.
uint32_t pick_node(redis_cluster_state& st) {
  auto n = static_cast<uint32_t>(st.nodes.size());
  auto start = static_cast<uint32_t>(st.refreshes % n);
  for (uint32_t i = 0; i < n; ++i)
    if (st.nodes[(start + i) % n]->session.link().up())
      return (start + i) % n;
  for (uint32_t i = 0; i < n; ++i)
    if (st.nodes[(start + i) % n]->session.link().connecting())
      return (start + i) % n;
  return start;
}

void send_slots(cluster_ptr self) {
  auto& st = self->state;
  st.refreshing = true;
  st.refresh_again = false;
  st.last_refresh_ms = now_ms();
  ++st.refreshes;
  cluster_command cmd;
  cmd.what = cluster_command::op::slots;
  send_to(self, pick_node(st), std::move(cmd));
}

bool primary_down(const redis_cluster_state& st) {
  return std::any_of(st.nodes.begin(), st.nodes.end(),
                     [](auto& node) { return node->primary && !node->session.link().up(); });
}

std::string ranges_of(const redis_cluster_state& st, uint32_t node) {
  std::string result;
  for (uint32_t slot = 0; slot < cluster_slot_count;) {
    if (st.slots[slot] != node) {
      ++slot;
      continue;
    }
    auto first = slot;
    while (slot < cluster_slot_count && st.slots[slot] == node)
      ++slot;
    if (!result.empty())
      result += ',';
    result += std::to_string(first);
    if (slot - 1 > first)
      result += '-' + std::to_string(slot - 1);
  }
  return result;
}

} // namespace

void request_refresh(cluster_ptr self) {
  auto& st = self->state;
  if (st.refreshing) {
    st.refresh_again = true;
    return;
  }
  auto wait = st.last_refresh_ms + refresh_interval_ms - now_ms();
  if (wait <= 0) {
    send_slots(self);
    return;
  }
  if (!st.refresh_timer) {
    st.refresh_timer = true;
    self->delayed_send(self, std::chrono::milliseconds{wait}, refresh_atom::value);
  }
}

void on_refresh_timer(cluster_ptr self) {
  self->state.refresh_timer = false;
  request_refresh(self);
}

void complete_slots(cluster_ptr self, cluster_command& cmd, const redisReply* reply) {
  auto& st = self->state;
  st.refreshing = false;
  std::string host;
  uint16_t port = 0;
  split_address(st.nodes[cmd.node]->address, host, port);
  auto ranges = parse_cluster_slots(reply, host);
  if (!ranges || ranges->empty()) {
    ++st.stats.errors;
    run_waiting(self, false);
    request_refresh(self);
    return;
  }
  st.waiting_first_map = false;
  auto old = st.slots;
  st.slots.fill(redis_cluster_state::unknown);
  for (auto& range : *ranges) {
    auto node = node_at(self, range.primary);
    for (uint32_t slot = range.first; slot <= range.last; ++slot)
      st.slots[slot] = node;
  }
  // A primary that lost its slots while unreachable: its replica took over.
  std::set<uint32_t> lost;
  for (uint32_t slot = 0; slot < cluster_slot_count; ++slot)
    if (old[slot] != redis_cluster_state::unknown && old[slot] != st.slots[slot] &&
        !st.nodes[old[slot]]->session.link().up())
      lost.insert(old[slot]);
  st.failovers += lost.size();
  for (auto& node : st.nodes)
    node->primary = false;
  for (auto node : st.slots)
    if (node != redis_cluster_state::unknown)
      st.nodes[node]->primary = true;
  resend_parked(self);
  run_waiting(self, true);
  if (st.refresh_again || primary_down(st))
    request_refresh(self);
}

void when_mapped(cluster_ptr self, std::function<void(bool)> f) {
  auto& st = self->state;
  if (std::any_of(st.nodes.begin(), st.nodes.end(), [](auto& node) { return node->primary; })) {
    f(true);
    return;
  }
  st.waiting.push_back(std::move(f));
  request_refresh(self);
}

void run_waiting(cluster_ptr self, bool mapped) {
  auto waiting = std::move(self->state.waiting);
  self->state.waiting.clear();
  for (auto& f : waiting)
    f(mapped);
}

void after_event(cluster_ptr self) {
  if (primary_down(self->state))
    request_refresh(self);
}

tier_stats cluster_stats(cluster_ptr self) {
  auto& st = self->state;
  auto res = st.stats;
  res.connected = true;
  bool any_primary = false;
  for (uint32_t i = 0; i < st.nodes.size(); ++i) {
    auto& node = *st.nodes[i];
    tier_stats one;
    node.session.report(one);
    res.reconnects += one.reconnects;
    res.timeouts += one.timeouts;
    if (node.primary) {
      any_primary = true;
      res.connected = res.connected && one.connected;
    }
    res.nodes.push_back(node_stats{node.address, node.primary ? "primary" : "node",
                                   node.primary ? ranges_of(st, i) : std::string{}, one.connected,
                                   one.reconnects, one.timeouts, node.moved, node.asked});
    res.topology.moved += node.moved;
    res.topology.asked += node.asked;
  }
  res.connected = res.connected && any_primary;
  res.topology.retries = st.retries;
  res.topology.refreshes = st.refreshes;
  res.topology.failovers = st.failovers;
  res.ops.assign(st.ops.begin(), st.ops.end());
  return res;
}

} // namespace mtcache::detail

// Batches on a cluster: how a batch becomes commands (one MGET per slot holding several of
// its keys, one group of single-key commands per node for the rest) and how a group's
// answer comes apart again, each key of it following its own redirect.

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <hiredis/hiredis.h>

#include "mtcache/actors/detail/redis_cluster_state.hpp"
#include "mtcache/actors/detail/redis_commands.hpp"
#include "mtcache/redis/cluster_topology.hpp"

namespace mtcache::detail {

namespace {

// Element `i` of a group as a command of its own (to follow a redirect alone).
cluster_command single_of(cluster_command& group, size_t i, cluster_command::op what) {
  cluster_command one;
  one.what = what;
  one.key = std::move(group.keys[i]);
  if (what == cluster_command::op::put) {
    one.value = std::move(group.values[i]);
    one.ttl = group.ttls[i];
  }
  one.round = group.round;
  one.index = group.indices[i];
  one.node = group.node;
  one.redirects = group.redirects;
  one.give_up_ms = group.give_up_ms;
  one.sent = group.sent;
  return one;
}

// An MGET told to go elsewhere or to retry becomes single-key reads that follow the answer
// one by one: after MOVED they all go to the new node; during a migration (ASK, TRYAGAIN)
// each key is read where it is now.
void split_and_follow(cluster_ptr self, cluster_command& cmd, const redisReply* r) {
  cmd.round->outstanding += static_cast<uint32_t>(cmd.keys.size()) - 1;
  for (size_t i = 0; i < cmd.keys.size(); ++i) {
    auto one = single_of(cmd, i, cluster_command::op::get);
    follow(self, one, r);
  }
}

void complete_mget(cluster_ptr self, cluster_command& cmd, std::vector<redis_reply_ptr>& replies) {
  auto& st = self->state;
  auto* r = replies[0].get();
  if (r->type == REDIS_REPLY_ERROR) {
    if (parse_cluster_error(std::string_view{r->str, r->len}).what != cluster_redirect::kind::none)
      split_and_follow(self, cmd, r);
    else
      fail(self, cmd, reply_error(r));
    return;
  }
  if (r->type != REDIS_REPLY_ARRAY || r->elements != cmd.keys.size()) {
    fail(self, cmd, make_error(errc::backend_error, "unexpected MGET reply"));
    return;
  }
  observe_latency(st, cmd);
  auto& reads = cmd.round->reads;
  for (size_t i = 0; i < cmd.keys.size(); ++i)
    reads.results[cmd.indices[i]] =
        decode_read(st.stats, st.level, r->element[i], replies[1 + i].get());
  finish_step(self, cmd.round);
}

// The commands of one node's group (a GET and PTTL per read, a SET per write), each answered
// on its own: one that is redirected goes on alone and follows its redirect.
void complete_each(cluster_ptr self, cluster_command& cmd, std::vector<redis_reply_ptr>& replies) {
  auto& st = self->state;
  observe_latency(st, cmd);
  auto reads = cmd.what == cluster_command::op::gets;
  size_t stride = reads ? 2 : 1;
  for (size_t i = 0; i < cmd.keys.size(); ++i) {
    auto* r = replies[stride * i].get();
    if (r->type == REDIS_REPLY_ERROR) {
      auto one = single_of(cmd, i, reads ? cluster_command::op::get : cluster_command::op::put);
      ++cmd.round->outstanding;
      if (!follow(self, one, r))
        fail(self, one, reply_error(r));
    } else if (reads) {
      cmd.round->reads.results[cmd.indices[i]] =
          decode_read(st.stats, st.level, r, replies[stride * i + 1].get());
    } else {
      ++st.stats.writes;
    }
  }
  finish_step(self, cmd.round);
}

} // namespace

void complete_group(cluster_ptr self, cluster_command& cmd, std::vector<redis_reply_ptr>& replies) {
  if (cmd.what == cluster_command::op::mget)
    complete_mget(self, cmd, replies);
  else
    complete_each(self, cmd, replies);
}

std::shared_ptr<cluster_round> make_round(cluster_round::kind what, caf::response_promise rp,
                                          size_t n) {
  auto round = std::make_shared<cluster_round>();
  round->what = what;
  round->rp = std::move(rp);
  round->outstanding = static_cast<uint32_t>(n);
  return round;
}

namespace {

// The slot of `key` as stored (prefix included), hashing it in place when there is no
// prefix.
uint16_t stored_slot(redis_cluster_state& st, const std::string& key) {
  if (st.cfg.key_prefix.empty())
    return cluster_slot(key);
  st.scratch_key.assign(st.cfg.key_prefix).append(key);
  return cluster_slot(st.scratch_key);
}

// Per known node, an empty list of batch positions.
std::vector<std::vector<uint32_t>>& positions_by_node(redis_cluster_state& st) {
  st.batch_by_node.resize(st.nodes.size());
  for (auto& positions : st.batch_by_node)
    positions.clear();
  return st.batch_by_node;
}

// A read of `n` keys of a batch, the keys at `indices[0..n)`: one GET and PTTL, or with
// `mget` one MGET and a PTTL per key.
cluster_command batch_read(redis_cluster_state& st, const std::vector<std::string>& keys,
                           const std::shared_ptr<cluster_round>& round, const uint32_t* indices,
                           size_t n, bool mget) {
  cluster_command cmd;
  cmd.round = round;
  cmd.index = indices[0];
  cmd.key = st.cfg.key_prefix + keys[indices[0]];
  if (n == 1) {
    cmd.what = cluster_command::op::get;
    return cmd;
  }
  cmd.what = mget ? cluster_command::op::mget : cluster_command::op::gets;
  cmd.keys.reserve(n);
  cmd.indices.assign(indices, indices + n);
  for (size_t i = 0; i < n; ++i)
    cmd.keys.push_back(st.cfg.key_prefix + keys[indices[i]]);
  return cmd;
}

} // namespace

// A batch of reads: one MGET for the keys of a slot that has several, the other keys grouped
// per node (a GET and a PTTL each); a key whose slot has no known node yet goes alone.
// Batches come several thousand times a second: the grouping works in buffers the state
// keeps (sorting the keys by slot), so that a batch allocates little beyond its commands.
void read_batch_of(cluster_ptr self, caf::response_promise rp,
                   const std::vector<std::string>& keys) {
  auto& st = self->state;
  auto& order = st.batch_order;
  order.clear();
  for (uint32_t i = 0; i < keys.size(); ++i)
    order.push_back((uint64_t{stored_slot(st, keys[i])} << 32) | i);
  std::sort(order.begin(), order.end());
  auto& alone = positions_by_node(st);
  auto& run = st.batch_run;
  // One step held until every command is out: a command failing at once must not finish
  // the round early.
  auto round = make_round(cluster_round::kind::reads, std::move(rp), 1);
  round->reads.results.resize(keys.size());
  corked(self, [&] {
    for (size_t a = 0, b = 0; a < order.size(); a = b) {
      auto slot = static_cast<uint16_t>(order[a] >> 32);
      run.clear();
      for (b = a; b < order.size() && (order[b] >> 32) == slot; ++b)
        run.push_back(static_cast<uint32_t>(order[b]));
      auto node = st.slots[slot];
      if (run.size() == 1 && node != redis_cluster_state::unknown) {
        alone[node].push_back(run[0]);
        continue;
      }
      ++round->outstanding;
      dispatch(self, batch_read(st, keys, round, run.data(), run.size(), true), slot);
    }
    for (uint32_t node = 0; node < alone.size(); ++node) {
      if (alone[node].empty())
        continue;
      ++round->outstanding;
      send_to(self, node,
              batch_read(st, keys, round, alone[node].data(), alone[node].size(), false));
    }
  });
  finish_step(self, round);
}

// A batch of writes: one command per node holding a SET per write (a write whose slot has no
// known node yet goes alone, to be routed when the map arrives).
void write_batch(cluster_ptr self, caf::response_promise rp, std::vector<tier_write>& writes) {
  auto& st = self->state;
  auto& by_node = positions_by_node(st);
  // Held as for reads.
  auto round = make_round(cluster_round::kind::writes, std::move(rp), 1);
  round->writes.resize(writes.size());
  corked(self, [&] {
    for (uint32_t i = 0; i < writes.size(); ++i) {
      auto slot = stored_slot(st, writes[i].key);
      if (auto node = st.slots[slot]; node != redis_cluster_state::unknown) {
        by_node[node].push_back(i);
        continue;
      }
      cluster_command cmd;
      cmd.what = cluster_command::op::put;
      cmd.key = st.cfg.key_prefix + writes[i].key;
      cmd.value = std::move(writes[i].value);
      cmd.ttl = writes[i].ttl;
      cmd.round = round;
      cmd.index = i;
      ++round->outstanding;
      dispatch(self, std::move(cmd), slot);
    }
    for (uint32_t node = 0; node < by_node.size(); ++node) {
      auto& positions = by_node[node];
      if (positions.empty())
        continue;
      cluster_command group;
      group.what = cluster_command::op::puts;
      group.round = round;
      group.index = positions[0];
      group.key = st.cfg.key_prefix + writes[positions[0]].key;
      group.indices = positions;
      group.keys.reserve(positions.size());
      group.values.reserve(positions.size());
      group.ttls.reserve(positions.size());
      for (auto i : positions) {
        group.keys.push_back(st.cfg.key_prefix + writes[i].key);
        group.values.push_back(std::move(writes[i].value));
        group.ttls.push_back(writes[i].ttl);
      }
      ++round->outstanding;
      send_to(self, node, std::move(group));
    }
  });
  finish_step(self, round);
}

} // namespace mtcache::detail

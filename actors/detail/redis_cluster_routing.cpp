// How the cluster tier gets a command to the node that serves its key, and follows the
// cluster's answers: MOVED (the slot lives elsewhere now: patch the map, ask for a new one,
// send again), ASK (this request goes to the importing node after ASKING; the map stays),
// TRYAGAIN and CLUSTERDOWN (send again after a short backoff, within request_timeout).
// Commands that went out are never sent again after a lost connection: the server may have
// applied them, and a late copy could overwrite a newer write.

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <hiredis/hiredis.h>

#include "mtcache/actors/detail/latency.hpp"
#include "mtcache/actors/detail/lease_commands.hpp"
#include "mtcache/actors/detail/redis_cluster_state.hpp"
#include "mtcache/actors/detail/redis_commands.hpp"
#include "mtcache/redis/cluster_topology.hpp"

namespace mtcache::detail {

namespace {

// A command is given up after this many redirects (a map changing that often is broken).
constexpr uint32_t max_redirects = 5;

} // namespace

void observe_latency(redis_cluster_state& st, cluster_command& cmd) {
  if (cmd.deadline_ms == 0)
    return;
  observe(op_stats(st, cmd.what).latency, std::chrono::steady_clock::now() - cmd.sent);
  cmd.deadline_ms = 0;
}

void finish_step(cluster_ptr self, const std::shared_ptr<cluster_round>& round) {
  if (--round->outstanding > 0)
    return;
  switch (round->what) {
  case cluster_round::kind::reads:
    round->rp.deliver(std::move(round->reads));
    return;
  case cluster_round::kind::writes:
    round->rp.deliver(std::move(round->writes));
    return;
  case cluster_round::kind::removes:
    if (round->failure)
      round->rp.deliver(round->failure);
    else
      round->rp.deliver(round->removed);
    return;
  case cluster_round::kind::health: {
    auto ok = round->asked > 0 && round->answered == round->asked;
    auto detail = std::to_string(round->answered) + " of " + std::to_string(round->asked) +
                  " primaries answered" + round->detail;
    round->rp.deliver(
        tier_health{self->state.level, "redis-cluster", ok, std::move(detail), round->latency_us});
    return;
  }
  }
}

namespace {

void write_command(resp_writer& out, const cluster_command& cmd, uint32_t scan_count) {
  // ASKING holds for the next command only: a read's GET and PTTL each need one.
  if (cmd.asking)
    out.begin(1).arg("ASKING");
  switch (cmd.what) {
  case cluster_command::op::get:
  case cluster_command::op::probe:
    out.begin(2).arg("GET").arg(cmd.key);
    if (cmd.asking)
      out.begin(1).arg("ASKING");
    out.begin(2).arg("PTTL").arg(cmd.key);
    return;
  case cluster_command::op::gets:
    for (auto& key : cmd.keys) {
      out.begin(2).arg("GET").arg(key);
      out.begin(2).arg("PTTL").arg(key);
    }
    return;
  case cluster_command::op::mget:
    out.begin(cmd.keys.size() + 1).arg("MGET");
    for (auto& key : cmd.keys)
      out.arg(key);
    for (auto& key : cmd.keys)
      out.begin(2).arg("PTTL").arg(key);
    return;
  case cluster_command::op::put:
    write_set(out, {}, cmd.key, cmd.value, cmd.ttl);
    return;
  case cluster_command::op::puts:
    for (size_t i = 0; i < cmd.keys.size(); ++i)
      write_set(out, {}, cmd.keys[i], cmd.values[i], cmd.ttls[i]);
    return;
  case cluster_command::op::remove:
    out.begin(2).arg("UNLINK").arg(cmd.key);
    return;
  case cluster_command::op::exists:
    out.begin(2).arg("EXISTS").arg(cmd.key);
    return;
  case cluster_command::op::lease:
    write_take_lease(out, cmd.key, {}, cmd.value.view(), cmd.ttl);
    return;
  case cluster_command::op::release:
    write_release_lease(out, cmd.key, {}, cmd.value.view());
    return;
  case cluster_command::op::ping:
    out.begin(1).arg("PING");
    return;
  case cluster_command::op::scan:
    out.begin(6).arg("SCAN").arg(cmd.cursor).arg("MATCH").arg(cmd.pattern).arg("COUNT");
    out.arg(static_cast<long long>(scan_count));
    return;
  case cluster_command::op::slots:
    out.begin(2).arg("CLUSTER").arg("SLOTS");
    return;
  }
}

bool keyed(cluster_command::op what) {
  using op = cluster_command::op;
  return what == op::get || what == op::probe || what == op::put || what == op::remove ||
         what == op::exists || what == op::lease || what == op::release;
}

uint32_t base_replies(const cluster_command& cmd) {
  switch (cmd.what) {
  case cluster_command::op::get:
  case cluster_command::op::probe:
    return 2;
  case cluster_command::op::mget:
    return static_cast<uint32_t>(cmd.keys.size()) + 1;
  case cluster_command::op::puts:
    return static_cast<uint32_t>(cmd.keys.size());
  case cluster_command::op::gets:
    return static_cast<uint32_t>(cmd.keys.size()) * 2;
  default:
    return 1;
  }
}

// A node to ask when no node is known to serve a slot: one that is up, else connecting.
uint32_t any_node(redis_cluster_state& st) {
  for (uint32_t i = 0; i < st.nodes.size(); ++i)
    if (st.nodes[i]->session.link().up())
      return i;
  for (uint32_t i = 0; i < st.nodes.size(); ++i)
    if (st.nodes[i]->session.link().connecting())
      return i;
  return 0;
}

void park(cluster_ptr self, cluster_command cmd) {
  auto& st = self->state;
  st.parked.push_back(std::move(cmd));
  if (!st.resend_timer) {
    st.resend_timer = true;
    self->delayed_send(self, std::chrono::milliseconds{10}, resend_atom::value);
  }
}

} // namespace

// Follows a redirect or retry; false if `r` asks for neither (an ordinary error reply).
bool follow(cluster_ptr self, cluster_command& cmd, const redisReply* r) {
  auto& st = self->state;
  auto redirect = parse_cluster_error(std::string_view{r->str, r->len});
  if (redirect.what == cluster_redirect::kind::none)
    return false;
  auto give_up = [&] {
    fail(self, cmd, make_error(errc::backend_error, std::string{r->str, r->len}));
    return true;
  };
  if (redirect.what == cluster_redirect::kind::retry) {
    ++st.retries;
    if (now_ms() + 10 >= cmd.give_up_ms)
      return give_up();
    cmd.deadline_ms = 0;
    park(self, std::move(cmd));
    return true;
  }
  auto& from = *st.nodes[cmd.node];
  if (++cmd.redirects > max_redirects)
    return give_up();
  auto target = node_at(self, redirect.address);
  cmd.deadline_ms = 0;
  if (redirect.what == cluster_redirect::kind::moved) {
    ++from.moved;
    st.slots[redirect.slot] = target;
    request_refresh(self);
    cmd.asking = false;
  } else {
    ++from.asked;
    cmd.asking = true;
  }
  send_to(self, target, std::move(cmd));
  return true;
}

backend_op_stats& op_stats(redis_cluster_state& st, cluster_command::op what) {
  switch (what) {
  case cluster_command::op::get:
  case cluster_command::op::probe:
    return st.ops[0];
  case cluster_command::op::mget:
  case cluster_command::op::gets:
    return st.ops[2];
  case cluster_command::op::put:
    return st.ops[1];
  case cluster_command::op::puts:
    return st.ops[3];
  case cluster_command::op::remove:
    return st.ops[4];
  case cluster_command::op::scan:
    return st.ops[5];
  default:
    return st.ops[6];
  }
}

uint32_t node_at(cluster_ptr self, const std::string& address) {
  auto& st = self->state;
  if (auto i = st.by_address.find(address); i != st.by_address.end())
    return i->second;
  auto id = static_cast<uint32_t>(st.nodes.size());
  auto url = st.url;
  url.mode = redis_url::topology::standalone;
  url.nodes.clear();
  split_address(address, url.host, url.port);
  auto node = std::make_unique<cluster_node>();
  node->address = address;
  node->session = redis_session<cluster_command>::open(self, std::move(url), st.cfg,
                                                       uint64_t{id} << node_epoch_shift);
  node->session.share_tick(&st.tick_armed);
  st.nodes.push_back(std::move(node));
  st.by_address.emplace(address, id);
  return id;
}

void send_to(cluster_ptr self, uint32_t node, cluster_command cmd) {
  auto& st = self->state;
  cmd.node = node;
  cmd.replies = base_replies(cmd) * (cmd.asking ? 2 : 1);
  if (cmd.give_up_ms == 0)
    cmd.give_up_ms = now_ms() + st.cfg.request_timeout.count();
  cmd.sent = std::chrono::steady_clock::now();
  auto scan_count = st.cfg.scan_count;
  auto& session = st.nodes[node]->session;
  session.submit(
      self, std::move(cmd),
      [scan_count](resp_writer& out, const cluster_command& x) {
        write_command(out, x, scan_count);
      },
      cluster_failer(self));
}

void dispatch(cluster_ptr self, cluster_command cmd) {
  auto slot = cluster_slot(cmd.key);
  dispatch(self, std::move(cmd), slot);
}

void dispatch(cluster_ptr self, cluster_command cmd, uint16_t slot) {
  auto& st = self->state;
  auto node = st.slots[slot];
  if (node == redis_cluster_state::unknown) {
    // Before the first map, wait for it (within request_timeout) rather than guess a node
    // and be redirected; with no map coming, guess.
    if (st.refreshing && st.waiting_first_map) {
      if (cmd.give_up_ms == 0)
        cmd.give_up_ms = now_ms() + st.cfg.request_timeout.count();
      park(self, std::move(cmd));
      return;
    }
    node = any_node(st);
  }
  send_to(self, node, std::move(cmd));
}

void fail(cluster_ptr self, cluster_command& cmd, const caf::error& err) {
  auto& st = self->state;
  ++st.stats.errors;
  ++op_stats(st, cmd.what).errors;
  observe_latency(st, cmd);
  // A node that cannot be reached may have lost its slots to a replica: look again.
  if (err.code() == static_cast<uint8_t>(errc::backend_unavailable) ||
      err.code() == static_cast<uint8_t>(errc::timeout))
    request_refresh(self);
  if (cmd.round) {
    auto& round = *cmd.round;
    switch (round.what) {
    case cluster_round::kind::reads:
      if (!cmd.indices.empty())
        round.reads.failed.insert(round.reads.failed.end(), cmd.indices.begin(), cmd.indices.end());
      else
        round.reads.failed.push_back(cmd.index);
      break;
    case cluster_round::kind::writes:
      // A group fails as a whole: each of its writes failed.
      if (!cmd.indices.empty())
        for (auto i : cmd.indices)
          round.writes[i] = err;
      else
        round.writes[cmd.index] = err;
      break;
    case cluster_round::kind::removes:
      if (!round.failure)
        round.failure = err;
      break;
    case cluster_round::kind::health:
      round.detail += "; " + st.nodes[cmd.node]->address + ": " + self->system().render(err);
      break;
    }
    finish_step(self, cmd.round);
    return;
  }
  switch (cmd.what) {
  case cluster_command::op::probe:
    cmd.rp.delegate(cmd.route, miss_atom::value, std::move(cmd.user_key), true,
                    std::move(cmd.context));
    return;
  case cluster_command::op::slots:
    st.refreshing = false;
    run_waiting(self, false);
    request_refresh(self);
    return;
  default:
    cmd.rp.deliver(err);
  }
}

void complete(cluster_ptr self, cluster_command& cmd, std::vector<redis_reply_ptr>& replies) {
  auto& st = self->state;
  if (!cmd.keys.empty()) {
    complete_group(self, cmd, replies);
    return;
  }
  auto offset = cmd.asking ? 1u : 0u;
  auto* r = replies[offset].get();
  if (r->type == REDIS_REPLY_ERROR) {
    if (keyed(cmd.what) && follow(self, cmd, r))
      return;
    if (cmd.what != cluster_command::op::slots) {
      fail(self, cmd, reply_error(r));
      return;
    }
  }
  observe_latency(st, cmd);
  switch (cmd.what) {
  case cluster_command::op::mget:
  case cluster_command::op::gets:
  case cluster_command::op::puts:
    return;
  case cluster_command::op::get:
  case cluster_command::op::probe: {
    auto res = decode_read(st.stats, st.level, r, replies[cmd.asking ? 3 : 1].get());
    if (cmd.round) {
      cmd.round->reads.results[cmd.index] = std::move(res);
      finish_step(self, cmd.round);
    } else if (!res.found && cmd.what == cluster_command::op::probe) {
      cmd.rp.delegate(cmd.route, miss_atom::value, std::move(cmd.user_key), false,
                      std::move(cmd.context));
    } else {
      cmd.rp.deliver(std::move(res));
    }
    return;
  }
  case cluster_command::op::put:
    ++st.stats.writes;
    if (cmd.round)
      finish_step(self, cmd.round);
    else
      cmd.rp.deliver(ok_atom::value);
    return;
  case cluster_command::op::remove: {
    auto n = static_cast<uint64_t>(r->type == REDIS_REPLY_INTEGER ? r->integer : 0);
    st.stats.removes += n;
    if (cmd.round) {
      cmd.round->removed += n;
      finish_step(self, cmd.round);
    } else {
      cmd.rp.deliver(n);
    }
    return;
  }
  case cluster_command::op::exists:
    cmd.rp.deliver(r->type == REDIS_REPLY_INTEGER && r->integer > 0);
    return;
  case cluster_command::op::lease:
    // OK if it was set; nil if another token holds the lease.
    cmd.rp.deliver(r->type == REDIS_REPLY_STATUS);
    return;
  case cluster_command::op::release:
    cmd.rp.deliver(r->type == REDIS_REPLY_INTEGER && r->integer == 1);
    return;
  case cluster_command::op::ping: {
    auto took = std::chrono::steady_clock::now() - cmd.sent;
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
    cmd.round->answered += 1;
    cmd.round->latency_us = std::max<int64_t>(cmd.round->latency_us, us);
    finish_step(self, cmd.round);
    return;
  }
  case cluster_command::op::scan:
    complete_scan(self, cmd, r);
    return;
  case cluster_command::op::slots:
    complete_slots(self, cmd, r);
    return;
  }
}

void resend_parked(cluster_ptr self) {
  auto& st = self->state;
  st.resend_timer = false;
  auto parked = std::move(st.parked);
  st.parked.clear();
  auto now = now_ms();
  for (auto& cmd : parked) {
    if (now >= cmd.give_up_ms)
      fail(self, cmd,
           make_error(errc::timeout, "the cluster did not serve the request within " +
                                         std::to_string(st.cfg.request_timeout.count()) + " ms"));
    else
      dispatch(self, std::move(cmd));
  }
}

} // namespace mtcache::detail

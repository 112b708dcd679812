// The Redis tier over a Redis Cluster. Every request becomes commands sent to the node that
// serves their keys (actors/detail/redis_cluster_routing.cpp), none spanning slots, so Redis
// never answers CROSSSLOT: single-key commands; for a batch, one MGET per slot holding
// several of its keys (as keys with one hash tag do) and one group of single-key commands
// per node for the rest, written to each connection at once. The broker owns one session per node:
// connection events are told apart by the connection handle, or by the node id in the high bits of
// an epoch.

#include "mtcache/actors/detail/redis_cluster_tier.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/typed_broker.hpp>

#include "mtcache/actors/detail/redis_cluster_state.hpp"
#include "mtcache/codec/detail/glob.hpp"
#include "mtcache/redis/cluster_topology.hpp"

namespace mtcache::detail {

namespace {

constexpr const char* op_names[] = {"get",    "set",  "get_batch", "set_batch",
                                    "remove", "scan", "other"};

cluster_node* node_of(cluster_ptr self, caf::io::connection_handle hdl) {
  for (auto& node : self->state.nodes)
    if (node->session.link().up() && node->session.link().handle() == hdl)
      return node.get();
  return nullptr;
}

cluster_node* node_of_epoch(cluster_ptr self, uint64_t epoch) {
  auto id = epoch >> node_epoch_shift;
  return id < self->state.nodes.size() ? self->state.nodes[id].get() : nullptr;
}

cluster_command keyed(cluster_ptr self, cluster_command::op what, const std::string& key,
                      caf::response_promise rp) {
  cluster_command cmd;
  cmd.what = what;
  cmd.key = self->state.cfg.key_prefix + key;
  cmd.rp = std::move(rp);
  return cmd;
}

cluster_broker::behavior_type redis_cluster_tier(cluster_ptr self, redis_tier_config cfg,
                                                 redis_url url, uint32_t level) {
  auto& st = self->state;
  st.cfg = cfg;
  st.url = url;
  st.level = level;
  st.stats.level = level;
  st.stats.kind = "redis";
  st.slots.fill(redis_cluster_state::unknown);
  for (size_t i = 0; i < st.ops.size(); ++i)
    st.ops[i].op = op_names[i];
  for (auto& seed : url.nodes)
    st.nodes[node_at(self, join_address(seed.host, seed.port))]->seed = true;
  request_refresh(self);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto err = make_error(errc::shutting_down, "the redis tier is shutting down");
    for (auto& node : self->state.nodes)
      node->session.shut_down(self, err, cluster_failer(self));
    self->state.parked.clear();
    self->quit(msg.reason);
  });
  auto done = [self](cluster_command& cmd, std::vector<redis_reply_ptr>& replies) {
    complete(self, cmd, replies);
  };
  return {
      [=](const caf::io::new_data_msg& msg) {
        if (auto* node = node_of(self, msg.handle))
          node->session.on_data(self, msg.buf, done, cluster_failer(self));
        after_event(self);
      },
      [=](const caf::io::connection_closed_msg& msg) {
        if (auto* node = node_of(self, msg.handle))
          node->session.drop(self,
                             make_error(errc::backend_unavailable,
                                        "redis node " + node->address + " closed the connection"),
                             cluster_failer(self));
        after_event(self);
      },
      [=](connect_atom, connected_socket& sock, uint64_t epoch) {
        if (auto* node = node_of_epoch(self, epoch))
          node->session.link().adopt(self, sock, epoch);
        else
          ::close(sock.release());
        after_event(self);
      },
      [=](connect_atom, caf::error& err, uint64_t epoch) {
        if (auto* node = node_of_epoch(self, epoch))
          node->session.connect_failed(self, std::move(err), epoch, cluster_failer(self));
        after_event(self);
      },
      [=](retry_atom, uint64_t epoch) {
        if (auto* node = node_of_epoch(self, epoch))
          node->session.link().retry(self, epoch);
      },
      [=](connect_atom) {
        for (auto& node : self->state.nodes)
          node->session.link().retry_now(self);
      },
      [=](caf::tick_atom) {
        self->state.tick_armed = false;
        for (auto& node : self->state.nodes)
          node->session.on_tick(self, cluster_failer(self));
        after_event(self);
      },
      // A Sentinel's notice; a cluster's nodes are followed through its slot map instead.
      [=](switch_atom, const std::string&) {},
      [=](resend_atom) { resend_parked(self); },
      [=](refresh_atom) { on_refresh_timer(self); },
      [=](track_atom, uint64_t, std::vector<std::string>&, caf::actor&) -> caf::result<ok_atom> {
        return make_error(errc::not_supported,
                          "Redis tracking is not supported on a cluster: each node tracks only "
                          "its own keys");
      },
      [=](get_atom, const std::string& key) -> caf::result<lookup> {
        auto rp = self->make_response_promise<lookup>();
        dispatch(self, keyed(self, cluster_command::op::get, key, rp));
        return rp;
      },
      [=](get_atom, std::string& key, miss_route& route,
          caf::message& context) -> caf::result<lookup> {
        auto rp = self->make_response_promise<lookup>();
        auto cmd = keyed(self, cluster_command::op::probe, key, rp);
        cmd.user_key = std::move(key);
        cmd.route = std::move(route);
        cmd.context = std::move(context);
        dispatch(self, std::move(cmd));
        return rp;
      },
      [=](get_atom, const std::vector<std::string>& keys) -> caf::result<read_batch> {
        if (keys.empty())
          return read_batch{};
        auto rp = self->make_response_promise<read_batch>();
        read_batch_of(self, rp, keys);
        return rp;
      },
      [=](get_atom, stale_atom, const std::string&) {
        // Redis drops expired keys itself; there is nothing stale to offer.
        return lookup{};
      },
      [=](put_atom, const std::string& key, bytes& value,
          caf::timespan ttl) -> caf::result<ok_atom> {
        auto rp = self->make_response_promise<ok_atom>();
        auto cmd = keyed(self, cluster_command::op::put, key, rp);
        cmd.value = std::move(value);
        cmd.ttl = ttl;
        dispatch(self, std::move(cmd));
        return rp;
      },
      [=](put_atom, std::vector<tier_write>& writes) -> caf::result<std::vector<caf::error>> {
        if (writes.empty())
          return std::vector<caf::error>{};
        auto rp = self->make_response_promise<std::vector<caf::error>>();
        write_batch(self, rp, writes);
        return rp;
      },
      [=](delete_atom, const std::string& key) -> caf::result<uint64_t> {
        auto rp = self->make_response_promise<uint64_t>();
        dispatch(self, keyed(self, cluster_command::op::remove, key, rp));
        return rp;
      },
      [=](delete_atom, const std::vector<std::string>& keys) -> caf::result<uint64_t> {
        if (keys.empty())
          return uint64_t{0};
        auto rp = self->make_response_promise<uint64_t>();
        auto round = make_round(cluster_round::kind::removes, rp, keys.size());
        dispatch_all(self, keys.size(), [&](size_t i) {
          auto cmd = keyed(self, cluster_command::op::remove, keys[i], {});
          cmd.round = round;
          return cmd;
        });
        return rp;
      },
      [=](delete_atom, match_atom, const std::string& pattern) -> caf::result<uint64_t> {
        auto rp = self->make_response_promise<uint64_t>();
        remove_matching(self, rp, glob::escape(self->state.cfg.key_prefix) + pattern);
        return rp;
      },
      [=](clear_atom) -> caf::result<uint64_t> {
        auto rp = self->make_response_promise<uint64_t>();
        remove_matching(self, rp, glob::escape(self->state.cfg.key_prefix) + "*");
        return rp;
      },
      // Load leases (cache_options::load_lease), routed by the slot of the lease's own key.
      [=](lease_atom, const std::string& key, const std::string& token,
          caf::timespan time) -> caf::result<bool> {
        auto rp = self->make_response_promise<bool>();
        auto cmd = keyed(self, cluster_command::op::lease, std::string{lease_marker} + key, rp);
        cmd.value = bytes{token};
        cmd.ttl = time;
        dispatch(self, std::move(cmd));
        return rp;
      },
      [=](lease_atom, delete_atom, const std::string& key,
          const std::string& token) -> caf::result<bool> {
        auto rp = self->make_response_promise<bool>();
        auto cmd = keyed(self, cluster_command::op::release, std::string{lease_marker} + key, rp);
        cmd.value = bytes{token};
        dispatch(self, std::move(cmd));
        return rp;
      },
      [=](exists_atom, const std::string& key) -> caf::result<bool> {
        auto rp = self->make_response_promise<bool>();
        dispatch(self, keyed(self, cluster_command::op::exists, key, rp));
        return rp;
      },
      [=](stats_atom) { return cluster_stats(self); },
      [=](health_atom) -> caf::result<tier_health> {
        auto rp = self->make_response_promise<tier_health>();
        when_mapped(self, [self, rp](bool mapped) mutable {
          auto& st = self->state;
          if (!mapped) {
            rp.deliver(tier_health{st.level, "redis-cluster", false,
                                   "no node of the cluster answered", 0});
            return;
          }
          auto round = make_round(cluster_round::kind::health, rp, 1);
          for (uint32_t i = 0; i < st.nodes.size(); ++i) {
            if (!st.nodes[i]->primary)
              continue;
            ++round->asked;
            ++round->outstanding;
            cluster_command cmd;
            cmd.what = cluster_command::op::ping;
            cmd.round = round;
            send_to(self, i, std::move(cmd));
          }
          finish_step(self, round);
        });
        return rp;
      },
  };
}

} // namespace

batch_tier_actor spawn_redis_cluster_tier(caf::actor_system& sys, const redis_tier_config& cfg,
                                          redis_url url, uint32_t level) {
  return sys.middleman().spawn_broker(redis_cluster_tier, cfg, std::move(url), level);
}

} // namespace mtcache::detail

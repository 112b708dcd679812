// Removal by pattern over a cluster: every primary walks its own keys with SCAN MATCH, and
// each key found is removed on its own (UNLINK of several keys would need them in one slot),
// routed like any single-key command, so a key that moved meanwhile is still found.

#include <memory>
#include <string>
#include <utility>

#include <hiredis/hiredis.h>

#include "mtcache/actors/detail/redis_cluster_state.hpp"

namespace mtcache::detail {

namespace {

void send_scan(cluster_ptr self, const std::shared_ptr<cluster_round>& round, uint32_t node,
               std::string pattern, std::string cursor) {
  cluster_command cmd;
  cmd.what = cluster_command::op::scan;
  cmd.round = round;
  cmd.pattern = std::move(pattern);
  cmd.cursor = std::move(cursor);
  send_to(self, node, std::move(cmd));
}

} // namespace

void remove_matching(cluster_ptr self, caf::response_promise rp, std::string pattern) {
  when_mapped(self, [self, rp, pattern](bool mapped) mutable {
    if (!mapped) {
      rp.deliver(make_error(errc::backend_unavailable, "no node of the cluster answered"));
      return;
    }
    auto round = std::make_shared<cluster_round>();
    round->what = cluster_round::kind::removes;
    round->rp = std::move(rp);
    auto& st = self->state;
    // One walk per primary; the extra step keeps the round open while they start.
    round->outstanding = 1;
    for (uint32_t i = 0; i < st.nodes.size(); ++i) {
      if (!st.nodes[i]->primary)
        continue;
      ++round->outstanding;
      send_scan(self, round, i, pattern, "0");
    }
    finish_step(self, round);
  });
}

void complete_scan(cluster_ptr self, cluster_command& cmd, const redisReply* r) {
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
      r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY) {
    fail(self, cmd, make_error(errc::backend_error, "unexpected SCAN reply"));
    return;
  }
  auto& round = cmd.round;
  auto* keys = r->element[1];
  for (size_t k = 0; k < keys->elements; ++k) {
    auto* key = keys->element[k];
    if (key->type != REDIS_REPLY_STRING)
      continue;
    cluster_command unlink;
    unlink.what = cluster_command::op::remove;
    unlink.key.assign(key->str, key->len);
    unlink.round = round;
    ++round->outstanding;
    dispatch(self, std::move(unlink));
  }
  std::string cursor{r->element[0]->str, r->element[0]->len};
  if (cursor != "0") {
    send_scan(self, round, cmd.node, std::move(cmd.pattern), std::move(cursor));
    return;
  }
  // This walk is done: the step it held closes like a finished command.
  finish_step(self, round);
}

} // namespace mtcache::detail

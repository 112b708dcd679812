// Load leases on the Redis tier (cache_options::load_lease): a key's lease is a string under
// the tier's key prefix and a marker no cached key starts with, holding the token of the
// flight that loads the key, with PX so that a holder that vanishes frees it in time. Only
// the holder removes it, and only while it still holds it: the check and the removal run as
// one script, so a lease that expired and went to another flight is left alone.

#include <string>
#include <utility>

#include "mtcache/actors/detail/lease_commands.hpp"
#include "mtcache/actors/detail/redis_tier_state.hpp"
#include "mtcache/codec/detail/resp.hpp"
#include "mtcache/messages/detail/lease_protocol.hpp"

namespace mtcache::detail {

namespace {

std::string lease_head(const redis_tier_state& st) {
  std::string head = st.cfg.key_prefix;
  head.append(lease_marker);
  return head;
}

} // namespace

caf::result<bool> take_lease(self_ptr self, const std::string& key, const std::string& token,
                             caf::timespan time) {
  auto rp = self->make_response_promise<bool>();
  auto head = lease_head(self->state);
  submit(self, make_pending(pending::op::lease, 1, rp),
         [&](resp_writer& out) { write_take_lease(out, head, key, token, time); });
  return rp;
}

caf::result<bool> release_lease(self_ptr self, const std::string& key, const std::string& token) {
  auto rp = self->make_response_promise<bool>();
  auto head = lease_head(self->state);
  submit(self, make_pending(pending::op::release, 1, rp),
         [&](resp_writer& out) { write_release_lease(out, head, key, token); });
  return rp;
}

void complete_lease(pending& p, const redisReply* r) {
  if (p.what == pending::op::lease)
    // OK if it was set; nil if another token holds the lease.
    p.rp.deliver(r->type == REDIS_REPLY_STATUS);
  else
    p.rp.deliver(r->type == REDIS_REPLY_INTEGER && r->integer == 1);
}

} // namespace mtcache::detail

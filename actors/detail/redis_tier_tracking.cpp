// Client-side caching on the Redis tier's connection: Redis reports every change of a key
// under the tracked prefixes (made by any client but this connection: NOLOOP) to the
// bridge's subscriber. BCAST mode keeps no per-key table on the server. Own writes are left
// out because this node applies them to its local tiers itself, in order; reported back,
// they would evict the values just written.
//
// Tracking belongs to the connection: a new connection starts untracked, so it is turned on
// again first thing, and the listener hears that it went off in between (changes of that
// time were not reported).

#include <utility>

#include <caf/send.hpp>

#include "mtcache/actors/detail/log.hpp"
#include "mtcache/actors/detail/redis_tier_state.hpp"
#include "mtcache/codec/detail/resp.hpp"

namespace mtcache::detail {

namespace {

void submit_tracking(self_ptr self, caf::response_promise rp) {
  auto& t = *self->state.track;
  auto p = make_pending(pending::op::track, 2, std::move(rp));
  submit(self, std::move(p), [&](resp_writer& out) {
    // Off first: a connection that tracks already cannot change its redirect or prefixes.
    out.begin(3).arg("CLIENT").arg("TRACKING").arg("OFF");
    out.begin(7 + 2 * t.prefixes.size()).arg("CLIENT").arg("TRACKING").arg("ON");
    out.arg("REDIRECT").arg(static_cast<long long>(t.redirect)).arg("BCAST");
    for (auto& prefix : t.prefixes)
      out.arg("PREFIX").arg(prefix);
    out.arg("NOLOOP");
  });
}

void tell(self_ptr self, bool on) {
  auto& t = *self->state.track;
  t.on = on;
  caf::anon_send(t.listener, track_atom::value, self->state.level, t.redirect, on);
}

} // namespace

caf::result<ok_atom> start_tracking(self_ptr self, uint64_t redirect,
                                    std::vector<std::string> prefixes, caf::actor listener) {
  auto& st = self->state;
  st.track = tracking{redirect, std::move(prefixes), std::move(listener), false};
  auto rp = self->make_response_promise<ok_atom>();
  submit_tracking(self, rp);
  return rp;
}

void on_link_change(self_ptr self) {
  auto& st = self->state;
  bool up = st.session.link().up();
  if (up == st.was_up)
    return;
  st.was_up = up;
  if (!st.track)
    return;
  if (up)
    submit_tracking(self, caf::response_promise{});
  else if (st.track->on)
    tell(self, false);
}

void complete_tracking(self_ptr self, pending& p, std::vector<redis_reply_ptr>& replies) {
  auto* on = replies[1].get();
  if (on->type == REDIS_REPLY_ERROR) {
    auto err = reply_error(on);
    // After a restart of Redis the old redirect is gone until the bridge sends the new one.
    log(log_level::warning, "redis_tier", "cannot turn on tracking: " + caf::to_string(err));
    if (p.rp.pending())
      p.rp.deliver(std::move(err));
    return;
  }
  tell(self, true);
  if (p.rp.pending())
    p.rp.deliver(ok_atom::value);
}

} // namespace mtcache::detail

#include "mtcache/actors/detail/tier_outbox.hpp"

namespace mtcache::detail {

caf::result<lookup> tier_outbox::read(self_pointer self, const tier_actor& first,
                                      const std::string& key, caf::message context) {
  send_ahead_of(tier_order::read);
  if (!reads_batched(self))
    return self->delegate(first, get_atom::value, key, miss_route{self}, std::move(context));
  auto rp = self->make_response_promise<lookup>();
  reads_.push({key, rp, std::move(context)});
  send_later(self, reads_);
  return rp;
}

bool tier_outbox::reads_batched(self_pointer self) {
  return reads_.batching() && !(self->mailbox().empty() && reads_.out() == 0);
}

void tier_outbox::write(self_pointer self, queued_write w) {
  send_ahead_of(tier_order::write);
  writes_.push(std::move(w));
  send_later(self, writes_);
}

void tier_outbox::flush() {
  flush_sent_ = false;
  writes_.send_if_room();
  reads_.send_if_room();
}

void tier_outbox::fail_queued(const caf::error& reason) {
  for (auto& w : writes_.take())
    w.rp.deliver(reason);
  for (auto& r : reads_.take())
    r.rp.deliver(reason);
}

template <class Request>
void tier_outbox::send_later(self_pointer self, batch_queue<Request>& queue) {
  if (queue.full() || (queue.has_room() && self->mailbox().empty())) {
    queue.send();
  } else if (queue.has_room() && !flush_sent_) {
    flush_sent_ = true;
    self->send(self, caf::flush_atom::value);
  }
}

} // namespace mtcache::detail

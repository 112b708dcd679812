#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mtcache/actors/detail/redis_tier_state.hpp"
#include "mtcache/codec/detail/resp.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

namespace {

// Keys per UNLINK command.
constexpr size_t unlink_batch = 512;

// Sends one step of `job`, written by `write(out, job)`. Steps look their job up each time:
// a failed step erases the job.
template <class Write>
void submit_step(self_ptr self, uint32_t job, pending::op what, Write write) {
  auto i = self->state.jobs.find(job);
  if (i == self->state.jobs.end())
    return;
  ++i->second.outstanding;
  auto p = make_pending(what, 1, {});
  p.job = job;
  submit(self, std::move(p), [&](resp_writer& out) { write(out, i->second); });
}

void submit_scan(self_ptr self, uint32_t job, std::string_view cursor) {
  submit_step(self, job, pending::op::scan, [&](resp_writer& out, const removal_job& j) {
    out.begin(6).arg("SCAN").arg(cursor).arg("MATCH").arg(j.pattern).arg("COUNT");
    out.arg(static_cast<long long>(self->state.cfg.scan_count));
  });
}

void submit_unlink(self_ptr self, uint32_t job, const std::vector<std::string_view>& keys,
                   std::string_view prefix) {
  submit_step(self, job, pending::op::unlink, [&](resp_writer& out, const removal_job&) {
    out.begin(keys.size() + 1).arg("UNLINK");
    for (auto& k : keys)
      out.arg(prefix, k);
  });
}

uint32_t start_job(self_ptr self, caf::response_promise rp, std::string pattern) {
  auto& st = self->state;
  auto id = ++st.next_job;
  auto& job = st.jobs[id];
  job.rp = std::move(rp);
  job.pattern = std::move(pattern);
  return id;
}

void finish_job_step(self_ptr self, uint32_t id) {
  auto& st = self->state;
  auto i = st.jobs.find(id);
  if (i == st.jobs.end())
    return;
  auto& job = i->second;
  if (--job.outstanding == 0 && job.scan_done) {
    st.stats.removes += job.removed;
    job.rp.deliver(job.removed);
    st.jobs.erase(i);
  }
}

} // namespace

void unlink_keys(self_ptr self, caf::response_promise rp, const std::vector<std::string>& keys) {
  auto job = start_job(self, std::move(rp), {});
  self->state.jobs[job].scan_done = true;
  std::vector<std::string_view> batch;
  for (auto& key : keys) {
    batch.emplace_back(key);
    if (batch.size() == unlink_batch || &key == &keys.back()) {
      submit_unlink(self, job, batch, self->state.cfg.key_prefix);
      batch.clear();
    }
  }
}

void unlink_matching(self_ptr self, caf::response_promise rp, std::string pattern) {
  auto job = start_job(self, std::move(rp), std::move(pattern));
  submit_scan(self, job, "0");
}

void complete_unlink(self_ptr self, pending& p, const redisReply* r) {
  auto& st = self->state;
  auto i = st.jobs.find(p.job);
  if (i == st.jobs.end())
    return;
  if (r->type == REDIS_REPLY_ERROR) {
    fail(self, p, reply_error(r));
    return;
  }
  if (r->type == REDIS_REPLY_INTEGER)
    i->second.removed += static_cast<uint64_t>(r->integer);
  finish_job_step(self, p.job);
}

void complete_scan(self_ptr self, pending& p, const redisReply* r) {
  auto& st = self->state;
  auto i = st.jobs.find(p.job);
  if (i == st.jobs.end())
    return;
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
    fail(self, p,
         r->type == REDIS_REPLY_ERROR ? reply_error(r)
                                      : make_error(errc::backend_error, "unexpected SCAN reply"));
    return;
  }
  std::string_view cursor{r->element[0]->str, r->element[0]->len};
  auto* keys = r->element[1];
  // SCAN returns full names: UNLINK them without prefixing again.
  std::vector<std::string_view> batch;
  for (size_t k = 0; k < keys->elements; ++k) {
    batch.emplace_back(keys->element[k]->str, keys->element[k]->len);
    if (batch.size() == unlink_batch) {
      submit_unlink(self, p.job, batch, {});
      batch.clear();
    }
  }
  if (!batch.empty())
    submit_unlink(self, p.job, batch, {});
  if (cursor != "0")
    submit_scan(self, p.job, cursor);
  else if (auto j = st.jobs.find(p.job); j != st.jobs.end())
    j->second.scan_done = true;
  finish_job_step(self, p.job);
}

} // namespace mtcache::detail

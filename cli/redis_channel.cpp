#include "mtcache/cli/redis_channel.hpp"

#include <memory>
#include <vector>

#include <hiredis/hiredis.h>

#include "mtcache/codec/detail/invalidation_json.hpp"
#include "mtcache/codec/detail/signature.hpp"
#include "mtcache/codec/redis_url.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::cli {

namespace {

using context_ptr = std::unique_ptr<redisContext, decltype(&redisFree)>;
using reply_ptr = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

timeval to_timeval(std::chrono::milliseconds d) {
  return {static_cast<time_t>(d.count() / 1000), static_cast<suseconds_t>(d.count() % 1000 * 1000)};
}

reply_ptr run(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = redisCommandArgv(c, static_cast<int>(args.size()), args.data(), lens.data());
  return {static_cast<redisReply*>(r), freeReplyObject};
}

caf::error failed(redisContext* c, const redisReply* r, const std::string& what) {
  if (!r)
    return make_error(errc::backend_unavailable,
                      what + ": " + (c->errstr[0] ? c->errstr : "no reply"));
  return make_error(errc::backend_error, what + ": " + std::string{r->str, r->len});
}

caf::expected<context_ptr> open_connection(const std::string& text,
                                           std::chrono::milliseconds timeout) {
  auto url = resolve_redis_url(text);
  if (!url)
    return std::move(url.error());
  auto tv = to_timeval(timeout);
  context_ptr c{url->kind == redis_url::transport::unix_socket
                    ? redisConnectUnixWithTimeout(url->path.c_str(), tv)
                    : redisConnectWithTimeout(url->host.c_str(), url->port, tv),
                redisFree};
  if (!c || c->err)
    return make_error(errc::backend_unavailable, "cannot connect to Redis at " + text + ": " +
                                                     (c ? c->errstr : "out of memory"));
  redisSetTimeout(c.get(), tv);
  if (!url->password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!url->user.empty())
      auth.push_back(url->user);
    auth.push_back(url->password);
    auto r = run(c.get(), auth);
    if (!r || r->type == REDIS_REPLY_ERROR)
      return failed(c.get(), r.get(), "AUTH");
  }
  if (url->db != 0) {
    auto r = run(c.get(), {"SELECT", std::to_string(url->db)});
    if (!r || r->type == REDIS_REPLY_ERROR)
      return failed(c.get(), r.get(), "SELECT");
  }
  return c;
}

} // namespace

caf::expected<int64_t> publish_change(const std::string& url, const std::string& channel,
                                      const invalidation& change, const std::string& secret,
                                      std::chrono::milliseconds timeout) {
  auto payload = detail::encode_invalidation(change);
  if (!secret.empty()) {
    std::string why;
    auto signed_payload = detail::sign(payload, secret, &why);
    if (!signed_payload)
      return make_error(errc::invalid_config, "cannot sign: " + why);
    payload = std::move(*signed_payload);
  }
  auto c = open_connection(url, timeout);
  if (!c)
    return std::move(c.error());
  auto r = run(c->get(), {"PUBLISH", channel, payload});
  if (!r || r->type != REDIS_REPLY_INTEGER)
    return failed(c->get(), r.get(), "PUBLISH");
  return static_cast<int64_t>(r->integer);
}

caf::error tail_stream(const std::string& url, const std::string& stream,
                       const std::string& from_id, uint64_t max_entries,
                       const std::function<bool()>& keep_going,
                       const std::function<void(const std::string&)>& print,
                       std::chrono::milliseconds timeout) {
  auto c = open_connection(url, timeout);
  if (!c)
    return std::move(c.error());
  // The socket timeout must outlast the BLOCK of every read.
  constexpr int64_t block_ms = 1000;
  redisSetTimeout(c->get(), to_timeval(timeout + std::chrono::milliseconds(block_ms)));
  std::string last = from_id.empty() ? "$" : from_id;
  uint64_t printed = 0;
  while (keep_going() && (max_entries == 0 || printed < max_entries)) {
    auto r = run(c->get(), {"XREAD", "COUNT", "100", "BLOCK", std::to_string(block_ms), "STREAMS",
                            stream, last});
    if (!r || r->type == REDIS_REPLY_ERROR)
      return failed(c->get(), r.get(), "XREAD");
    if (r->type == REDIS_REPLY_NIL)
      continue;
    // [[stream, [[id, [field, value, ...]], ...]]]
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 1 || r->element[0]->elements != 2)
      return make_error(errc::malformed_message, "unexpected XREAD reply");
    auto* entries = r->element[0]->element[1];
    for (size_t i = 0; i < entries->elements; ++i) {
      auto* e = entries->element[i];
      if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
        return make_error(errc::malformed_message, "unexpected stream entry");
      last.assign(e->element[0]->str, e->element[0]->len);
      std::string line = last;
      auto* fields = e->element[1];
      for (size_t k = 0; k + 1 < fields->elements; k += 2) {
        line += ' ';
        line.append(fields->element[k]->str, fields->element[k]->len);
        line += '=';
        line.append(fields->element[k + 1]->str, fields->element[k + 1]->len);
      }
      print(line);
      if (max_entries != 0 && ++printed >= max_entries)
        break;
    }
  }
  return caf::none;
}

} // namespace mtcache::cli

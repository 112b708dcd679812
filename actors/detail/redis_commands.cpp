#include "mtcache/actors/detail/redis_commands.hpp"

#include <chrono>

#include <string>

#include <hiredis/hiredis.h>

#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

caf::error reply_error(const redisReply* r) {
  return make_error(errc::backend_error, std::string{r->str, r->len});
}

void write_set(resp_writer& out, std::string_view prefix, std::string_view key, const bytes& value,
               caf::timespan ttl) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(ttl).count();
  if (ttl.count() > 0 && ms == 0)
    ms = 1;
  if (ms > 0)
    out.begin(5).arg("SET").arg(prefix, key).arg(value.view()).arg("PX").arg(ms);
  else
    out.begin(3).arg("SET").arg(prefix, key).arg(value.view());
}

lookup decode_read(tier_stats& stats, uint32_t level, const redisReply* value,
                   const redisReply* ttl) {
  if (value->type != REDIS_REPLY_STRING || ttl->type != REDIS_REPLY_INTEGER || ttl->integer == -2) {
    ++stats.misses;
    return {};
  }
  ++stats.hits;
  lookup res;
  res.found = true;
  res.value = bytes{std::string_view{value->str, value->len}};
  res.ttl_ms = ttl->integer >= 0 ? ttl->integer : -1;
  res.level = level;
  return res;
}

} // namespace mtcache::detail

#pragma once

// What the Redis tiers (one server, or a cluster) write for a key and make of the replies.

#include <cstdint>
#include <string_view>

#include <caf/error.hpp>
#include <caf/timespan.hpp>

#include "mtcache/codec/detail/resp.hpp"
#include "mtcache/messages/bytes.hpp"
#include "mtcache/messages/lookup.hpp"
#include "mtcache/messages/stats.hpp"

struct redisReply;

namespace mtcache::detail {

/// An error reply as `errc::backend_error` with Redis' message.
caf::error reply_error(const redisReply* r);

/// SET with PX; a positive TTL below 1 ms still expires: rounded up rather than dropping PX.
void write_set(resp_writer& out, std::string_view prefix, std::string_view key, const bytes& value,
               caf::timespan ttl);

/// The lookup a GET and PTTL reply pair makes; counts the hit or miss in `stats`.
lookup decode_read(tier_stats& stats, uint32_t level, const redisReply* value,
                   const redisReply* ttl);

} // namespace mtcache::detail

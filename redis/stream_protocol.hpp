#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>
#include <caf/timespan.hpp>

#include "mtcache/codec/detail/resp.hpp"
#include "mtcache/messages/detail/streams.hpp"

struct redisReply;

namespace mtcache::detail {

/// The BLOCK argument for a read that may wait `block`: whole milliseconds, rounded up,
/// because Redis reads BLOCK 0 as "wait forever"; 0 (send no BLOCK) for zero or less.
int64_t block_millis(caf::timespan block);

/// Appends `XADD prefix+stream [MAXLEN ~ maxlen] * name value ...`; maxlen 0 trims nothing.
void write_xadd(resp_writer& out, std::string_view prefix, std::string_view stream,
                const std::vector<stream_field>& fields, uint64_t maxlen);

/// Appends `XREVRANGE prefix+stream + - COUNT count`.
void write_xrevrange(resp_writer& out, std::string_view prefix, std::string_view stream,
                     uint64_t count);

/// Appends `XRANGE prefix+stream (after_id + COUNT count`, or from `-` for an empty
/// `after_id`.
void write_xrange(resp_writer& out, std::string_view prefix, std::string_view stream,
                  std::string_view after_id, uint64_t count);

/// Appends `XINFO STREAM prefix+stream`.
void write_xinfo(resp_writer& out, std::string_view prefix, std::string_view stream);

/// Appends `XREAD COUNT count [BLOCK block_ms] STREAMS prefix+stream last_id`; block_ms 0
/// sends no BLOCK.
void write_xread(resp_writer& out, std::string_view prefix, std::string_view stream,
                 std::string_view last_id, uint64_t count, int64_t block_ms);

/// The entries of an XRANGE or XREVRANGE reply, in reply order. An error reply becomes
/// `errc::backend_error` with Redis' message, and so does a reply of any other shape.
caf::expected<std::vector<stream_entry>> parse_stream_range(const redisReply* reply);

/// The entries of an XREAD reply for a single stream; nil (nothing came within the block
/// time) is an empty list. Errors as for `parse_stream_range`.
caf::expected<std::vector<stream_entry>> parse_stream_read(const redisReply* reply);

/// An XINFO STREAM reply; "no such key" is a stream that does not exist.
caf::expected<stream_info> parse_stream_info(const redisReply* reply);

/// Orders two stream ids ("<ms>-<seq>", a bare "<ms>" reads as "<ms>-0"; empty or
/// malformed as "0-0"): negative, zero or positive as `x` is older, equal or newer.
int compare_stream_ids(std::string_view x, std::string_view y);

} // namespace mtcache::detail

#include "mtcache/redis/stream_protocol.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <string>

#include <hiredis/hiredis.h>

#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

namespace {

// Redis parses counts as signed 64-bit integers; larger requests mean "all" anyway.
long long count_arg(uint64_t n) {
  constexpr auto max = static_cast<uint64_t>(std::numeric_limits<long long>::max());
  return static_cast<long long>(std::min(n, max));
}

caf::error unexpected(const char* command) {
  return make_error(errc::backend_error, std::string{"unexpected "} + command + " reply");
}

bool is_text(const redisReply* r) {
  return r != nullptr && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

std::string text(const redisReply* r) {
  return {r->str, r->len};
}

// One entry: [id, [name, value, ...]]. Nil fields (XREADGROUP's deleted history) are none.
bool parse_entry(const redisReply* r, stream_entry& out) {
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || !is_text(r->element[0]))
    return false;
  out.id = text(r->element[0]);
  auto* fields = r->element[1];
  if (fields->type == REDIS_REPLY_NIL)
    return true;
  if (fields->type != REDIS_REPLY_ARRAY || fields->elements % 2 != 0)
    return false;
  out.fields.reserve(fields->elements / 2);
  for (size_t i = 0; i < fields->elements; i += 2) {
    if (!is_text(fields->element[i]) || !is_text(fields->element[i + 1]))
      return false;
    out.fields.push_back({text(fields->element[i]), text(fields->element[i + 1])});
  }
  return true;
}

// Nil is how XRANGE answers COUNT 0, and XREAD a block time that ran out.
caf::expected<std::vector<stream_entry>> parse_entries(const redisReply* r, const char* command) {
  if (r->type == REDIS_REPLY_NIL)
    return std::vector<stream_entry>{};
  if (r->type == REDIS_REPLY_ERROR)
    return make_error(errc::backend_error, text(r));
  if (r->type != REDIS_REPLY_ARRAY)
    return unexpected(command);
  std::vector<stream_entry> entries(r->elements);
  for (size_t i = 0; i < r->elements; ++i)
    if (!parse_entry(r->element[i], entries[i]))
      return unexpected(command);
  return entries;
}

} // namespace

int64_t block_millis(caf::timespan block) {
  if (block.count() <= 0)
    return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(block).count();
  return std::max<int64_t>(ms, 1);
}

void write_xadd(resp_writer& out, std::string_view prefix, std::string_view stream,
                const std::vector<stream_field>& fields, uint64_t maxlen) {
  out.begin(3 + (maxlen > 0 ? 3 : 0) + 2 * fields.size()).arg("XADD").arg(prefix, stream);
  if (maxlen > 0)
    out.arg("MAXLEN").arg("~").arg(count_arg(maxlen));
  out.arg("*");
  for (auto& field : fields)
    out.arg(field.name).arg(field.value);
}

void write_xrevrange(resp_writer& out, std::string_view prefix, std::string_view stream,
                     uint64_t count) {
  out.begin(6).arg("XREVRANGE").arg(prefix, stream).arg("+").arg("-").arg("COUNT");
  out.arg(count_arg(count));
}

void write_xrange(resp_writer& out, std::string_view prefix, std::string_view stream,
                  std::string_view after_id, uint64_t count) {
  out.begin(6).arg("XRANGE").arg(prefix, stream);
  if (after_id.empty())
    out.arg("-");
  else
    out.arg("(", after_id);
  out.arg("+").arg("COUNT").arg(count_arg(count));
}

void write_xinfo(resp_writer& out, std::string_view prefix, std::string_view stream) {
  out.begin(3).arg("XINFO").arg("STREAM").arg(prefix, stream);
}

void write_xread(resp_writer& out, std::string_view prefix, std::string_view stream,
                 std::string_view last_id, uint64_t count, int64_t block_ms) {
  out.begin(block_ms > 0 ? 8 : 6).arg("XREAD").arg("COUNT").arg(count_arg(count));
  if (block_ms > 0)
    out.arg("BLOCK").arg(static_cast<long long>(block_ms));
  out.arg("STREAMS").arg(prefix, stream).arg(last_id);
}

caf::expected<std::vector<stream_entry>> parse_stream_range(const redisReply* reply) {
  return parse_entries(reply, "XRANGE");
}

caf::expected<std::vector<stream_entry>> parse_stream_read(const redisReply* reply) {
  // One stream asked for: [[name, entries]], or nil.
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0)
    return parse_entries(reply, "XREAD");
  if (reply->elements > 1)
    return unexpected("XREAD");
  auto* stream = reply->element[0];
  if (stream->type != REDIS_REPLY_ARRAY || stream->elements != 2 || !is_text(stream->element[0]))
    return unexpected("XREAD");
  return parse_entries(stream->element[1], "XREAD");
}

caf::expected<stream_info> parse_stream_info(const redisReply* reply) {
  if (reply->type == REDIS_REPLY_ERROR) {
    auto message = text(reply);
    if (message.find("no such key") != std::string::npos)
      return stream_info{};
    return make_error(errc::backend_error, std::move(message));
  }
  // RESP2: a flat array of name, value pairs.
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2 != 0)
    return unexpected("XINFO");
  stream_info info;
  info.exists = true;
  for (size_t i = 0; i < reply->elements; i += 2) {
    if (!is_text(reply->element[i]))
      return unexpected("XINFO");
    auto name = text(reply->element[i]);
    auto* value = reply->element[i + 1];
    auto count = [&] { return static_cast<uint64_t>(std::max<long long>(value->integer, 0)); };
    if (name == "length" && value->type == REDIS_REPLY_INTEGER) {
      info.length = count();
    } else if (name == "entries-added" && value->type == REDIS_REPLY_INTEGER) {
      info.entries_added = count();
    } else if (name == "last-generated-id" && is_text(value)) {
      info.last_id = text(value);
    } else if (name == "first-entry" || name == "last-entry") {
      stream_entry entry;
      if (value->type != REDIS_REPLY_NIL && parse_entry(value, entry)) {
        if (name == "first-entry")
          info.first_id = entry.id;
        else if (info.last_id.empty())
          info.last_id = entry.id;
      }
    }
  }
  return info;
}

namespace {

// "<ms>-<seq>" as two numbers; malformed parts read as 0.
std::pair<uint64_t, uint64_t> split_id(std::string_view id) {
  auto number = [](std::string_view digits) {
    uint64_t n = 0;
    for (auto c : digits) {
      if (c < '0' || c > '9')
        return uint64_t{0};
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    return n;
  };
  auto dash = id.find('-');
  if (dash == std::string_view::npos)
    return {number(id), 0};
  return {number(id.substr(0, dash)), number(id.substr(dash + 1))};
}

} // namespace

int compare_stream_ids(std::string_view x, std::string_view y) {
  auto a = split_id(x);
  auto b = split_id(y);
  return a < b ? -1 : (a == b ? 0 : 1);
}

} // namespace mtcache::detail

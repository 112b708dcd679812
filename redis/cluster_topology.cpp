#include "mtcache/redis/cluster_topology.hpp"

#include <hiredis/hiredis.h>

#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

namespace {

bool starts_with(std::string_view x, std::string_view prefix) {
  return x.substr(0, prefix.size()) == prefix;
}

// "<slot> <host:port>" after MOVED or ASK.
bool parse_target(std::string_view rest, cluster_redirect& out) {
  auto space = rest.find(' ');
  if (space == std::string_view::npos || space == 0)
    return false;
  uint32_t slot = 0;
  for (auto c : rest.substr(0, space)) {
    if (c < '0' || c > '9')
      return false;
    slot = slot * 10 + static_cast<uint32_t>(c - '0');
    if (slot >= 16384)
      return false;
  }
  out.slot = static_cast<uint16_t>(slot);
  out.address = std::string{rest.substr(space + 1)};
  std::string host;
  uint16_t port = 0;
  return split_address(out.address, host, port);
}

} // namespace

cluster_redirect parse_cluster_error(std::string_view error) {
  cluster_redirect result;
  if (starts_with(error, "MOVED ")) {
    if (parse_target(error.substr(6), result))
      result.what = cluster_redirect::kind::moved;
  } else if (starts_with(error, "ASK ")) {
    if (parse_target(error.substr(4), result))
      result.what = cluster_redirect::kind::ask;
  } else if (starts_with(error, "TRYAGAIN") || starts_with(error, "CLUSTERDOWN")) {
    result.what = cluster_redirect::kind::retry;
  }
  return result;
}

std::string join_address(std::string_view host, uint16_t port) {
  std::string result;
  if (host.find(':') != std::string_view::npos)
    result.append("[").append(host).append("]");
  else
    result.append(host);
  return result + ':' + std::to_string(port);
}

bool split_address(std::string_view address, std::string& host, uint16_t& port) {
  auto colon = address.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == address.size())
    return false;
  uint32_t value = 0;
  for (auto c : address.substr(colon + 1)) {
    if (c < '0' || c > '9')
      return false;
    value = value * 10 + static_cast<uint32_t>(c - '0');
    if (value > 65535)
      return false;
  }
  if (value == 0)
    return false;
  auto name = address.substr(0, colon);
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']')
    name = name.substr(1, name.size() - 2);
  if (name.empty())
    return false;
  host = std::string{name};
  port = static_cast<uint16_t>(value);
  return true;
}

namespace {

caf::error malformed() {
  return make_error(errc::backend_error, "unexpected CLUSTER SLOTS reply");
}

// [host, port, id, ...] of one node.
bool node_address(const redisReply* node, const std::string& asked_host, std::string& out) {
  if (node->type != REDIS_REPLY_ARRAY || node->elements < 2 ||
      node->element[0]->type != REDIS_REPLY_STRING || node->element[1]->type != REDIS_REPLY_INTEGER)
    return false;
  std::string_view host{node->element[0]->str, node->element[0]->len};
  auto port = node->element[1]->integer;
  if (port <= 0 || port > 65535)
    return false;
  if (host.empty() || host == "?")
    host = asked_host;
  out = join_address(host, static_cast<uint16_t>(port));
  return true;
}

} // namespace

caf::expected<std::vector<slot_range>> parse_cluster_slots(const redisReply* reply,
                                                           const std::string& asked_host) {
  if (reply->type == REDIS_REPLY_ERROR)
    return make_error(errc::backend_error, std::string{reply->str, reply->len});
  if (reply->type != REDIS_REPLY_ARRAY)
    return malformed();
  std::vector<slot_range> result;
  for (size_t i = 0; i < reply->elements; ++i) {
    auto* entry = reply->element[i];
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements < 3 ||
        entry->element[0]->type != REDIS_REPLY_INTEGER ||
        entry->element[1]->type != REDIS_REPLY_INTEGER)
      return malformed();
    auto first = entry->element[0]->integer;
    auto last = entry->element[1]->integer;
    if (first < 0 || last < first || last >= 16384)
      return malformed();
    slot_range range;
    range.first = static_cast<uint16_t>(first);
    range.last = static_cast<uint16_t>(last);
    if (!node_address(entry->element[2], asked_host, range.primary))
      return malformed();
    for (size_t k = 3; k < entry->elements; ++k) {
      std::string replica;
      if (node_address(entry->element[k], asked_host, replica))
        range.replicas.push_back(std::move(replica));
    }
    result.push_back(std::move(range));
  }
  return result;
}

} // namespace mtcache::detail

#include "mtcache/codec/detail/ketama.hpp"

#include <algorithm>

#include <openssl/evp.h>

namespace mtcache::detail {

namespace {

void md5(std::string_view in, unsigned char (&out)[16]) {
  unsigned int len = 0;
  EVP_Digest(in.data(), in.size(), out, &len, EVP_md5(), nullptr);
}

uint32_t word(const unsigned char (&digest)[16], uint32_t k) {
  return static_cast<uint32_t>(digest[3 + k * 4]) << 24 |
         static_cast<uint32_t>(digest[2 + k * 4]) << 16 |
         static_cast<uint32_t>(digest[1 + k * 4]) << 8 | static_cast<uint32_t>(digest[k * 4]);
}

} // namespace

ketama_ring::ketama_ring(const std::vector<memcached_server>& servers) {
  points_.reserve(servers.size() * points_per_server);
  for (uint32_t s = 0; s < servers.size(); ++s) {
    auto name = point_name(servers[s]);
    for (uint32_t k = 0; k < points_per_server / points_per_hash; ++k) {
      unsigned char digest[16];
      md5(name + "-" + std::to_string(k), digest);
      for (uint32_t h = 0; h < points_per_hash; ++h)
        points_.push_back({word(digest, h), s});
    }
  }
  std::sort(points_.begin(), points_.end(), [](const point& x, const point& y) {
    return x.value < y.value || (x.value == y.value && x.server < y.server);
  });
}

size_t ketama_ring::server_of(std::string_view stored_key) const {
  if (points_.empty())
    return 0;
  auto h = hash(stored_key);
  auto i = std::lower_bound(points_.begin(), points_.end(), h,
                            [](const point& p, uint32_t v) { return p.value < v; });
  return i == points_.end() ? points_.front().server : i->server;
}

uint32_t ketama_ring::hash(std::string_view stored_key) {
  unsigned char digest[16];
  md5(stored_key, digest);
  return word(digest, 0);
}

std::string ketama_ring::point_name(const memcached_server& server) {
  if (server.port == memcached_server::default_port)
    return server.host;
  return server.host + ":" + std::to_string(server.port);
}

} // namespace mtcache::detail

// Decodes arbitrary bytes as an invalidation message. Whatever decodes must survive a
// round trip in both value encodings, and signing and verifying it must give it back.
// Also feeds the raw input to `verify`, which must fail cleanly.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mtcache/codec/detail/invalidation_json.hpp"
#include "mtcache/codec/detail/signature.hpp"

using namespace mtcache;
using namespace mtcache::detail;

namespace {

bool same(const invalidation& x, const invalidation& y) {
  return x.type == y.type && x.key == y.key && x.keys == y.keys && x.pattern == y.pattern &&
         x.value == y.value && x.ttl_ms == y.ttl_ms && x.origin == y.origin && x.seq == y.seq &&
         x.ts_ms == y.ts_ms;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  std::string error;
  if (!verify(input, "fuzz", &error) && error.empty())
    std::abort();
  error.clear();
  auto x = decode_invalidation(input, &error);
  if (!x) {
    if (error.empty())
      std::abort();
    return 0;
  }
  // A value decoded from hex may need more room as an array.
  invalidation_limits roomy;
  roomy.max_message_bytes = SIZE_MAX;
  for (auto encoding : {value_encoding::array, value_encoding::hex}) {
    auto json = encode_invalidation(*x, encoding);
    auto y = decode_invalidation(json, &error, roomy);
    if (!y || !same(*x, *y) || encode_invalidation(*y, encoding) != json)
      std::abort();
    auto wire = sign(json, "fuzz");
    if (!wire || verify(*wire, "fuzz") != json || verify(*wire, "other"))
      std::abort();
  }
  return 0;
}

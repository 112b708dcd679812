// Parses arbitrary bytes as a Redis URL. Whatever parses must print (password redacted)
// to a URL that parses to the same endpoint; a rejection must carry a reason.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mtcache/codec/redis_url.hpp"

using mtcache::redis_url;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  std::string error;
  auto x = redis_url::parse(input, &error);
  if (!x) {
    if (error.empty())
      std::abort();
    return 0;
  }
  if (x->kind == redis_url::transport::tcp ? x->host.empty() : x->path.empty())
    std::abort();
  auto text = to_string(*x);
  if (text.size() > redis_url::max_url_bytes)
    return 0;
  auto y = redis_url::parse(text, &error);
  if (!y)
    std::abort();
  auto expected = *x;
  if (!expected.password.empty())
    expected.password = "***";
  if (!(*y == expected))
    std::abort();
  return 0;
}

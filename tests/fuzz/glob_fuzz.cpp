// Splits the input into a pattern and a key (the first byte gives the pattern's length),
// then checks glob against the independent Redis model and its own invariants.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "glob_reference.hpp"
#include "mtcache/codec/detail/glob.hpp"

using mtcache::detail::glob;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  std::string_view rest{reinterpret_cast<const char*>(data) + 1, size - 1};
  auto pattern = rest.substr(0, data[0]);
  auto key = rest.substr(pattern.size());
  auto g = glob::compile(pattern);
  if (!g)
    std::abort();
  bool matched = g->matches(key);
  if (matched != mtcache::reference::redis_keys_matches(pattern, key))
    std::abort();
  auto prefix = g->literal_prefix();
  if (matched && key.substr(0, prefix.size()) != prefix)
    std::abort();
  if (g->is_literal() && matched != (key == prefix))
    std::abort();
  if (g->matches_everything() && !key.empty() && !matched)
    std::abort();
  auto exact = glob::compile(glob::escape(key), nullptr, SIZE_MAX);
  if (!exact || !exact->matches(key) || !exact->is_literal() || exact->literal_prefix() != key)
    std::abort();
  return 0;
}

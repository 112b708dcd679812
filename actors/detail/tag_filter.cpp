#include "mtcache/actors/detail/tag_filter.hpp"

#include <chrono>
#include <cstdlib>

namespace mtcache::detail {

tag_verdict admit(lookup& res, const tag_clock* clock, std::vector<std::string>* unknown) {
  if (!res.found || !has_tag_header(res.value.view()))
    return tag_verdict::serve;
  auto tagged = decode_tagged(res.value.view());
  if (!tagged || (clock && clock->hides(tagged->created_us, tagged->tags))) {
    res = lookup{};
    return tag_verdict::hidden;
  }
  if (clock && unknown && !tagged->tags.empty()) {
    *unknown = clock->unknown(tagged->tags);
    if (!unknown->empty())
      return tag_verdict::unknown;
  }
  res.tags.assign(tagged->tags.begin(), tagged->tags.end());
  res.created_us = tagged->created_us;
  res.value = bytes{tagged->payload};
  return tag_verdict::serve;
}

bytes stored_form(const lookup& res) {
  if (res.tags.empty() && !has_tag_header(res.value.view()))
    return res.value;
  return encode_tagged(res.value.view(), res.tags, res.created_us);
}

int64_t unix_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

size_t tag_source(const tier_chain& tiers) {
  for (size_t i = tiers.size(); i > 0; --i)
    if (tiers[i - 1].cfg.shared)
      return i - 1;
  return tiers.size();
}

void learn_tag(tag_clock& clock, const std::string& tag, const caf::expected<lookup>& answer) {
  if (!answer)
    return;
  if (!answer->found) {
    clock.never_removed(tag);
    return;
  }
  auto text = std::string{answer->value.view()};
  char* end = nullptr;
  auto us = std::strtoll(text.c_str(), &end, 10);
  if (end != text.c_str() && *end == '\0' && us > 0)
    clock.removed(tag, us);
}

} // namespace mtcache::detail

#pragma once

// Values with tags on their way out of the tiers: what the tiers keep (a header in front of
// the caller's bytes, see codec/tagged_value.hpp) becomes what callers get (the bytes, with
// the tags in the lookup), unless a tag removal after the write hides it. Tags this node has
// no removal time for are first looked up in the shared tier that keeps them.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/timespan.hpp>

#include "mtcache/codec/tagged_value.hpp"
#include "mtcache/messages/detail/flight_protocol.hpp"
#include "mtcache/messages/interfaces.hpp"
#include "mtcache/store/tag_clock.hpp"

namespace mtcache::detail {

enum class tag_verdict : uint8_t {
  /// `res` is ready to hand out (it carried no header, or its tags hide nothing).
  serve,
  /// A removal of one of its tags hides it, or its header is malformed: `res` is a miss now.
  hidden,
  /// It carries tags this node has no removal time for (listed in `unknown`); `res` is as the
  /// tier answered it.
  unknown,
};

/// Checks a value as a tier answered it against `clock` (null: no removals are known here).
/// With `unknown` null, tags with no known removal time count as never removed.
tag_verdict admit(lookup& res, const tag_clock* clock, std::vector<std::string>* unknown = nullptr);

/// The form a tier keeps of a value handed out by `admit` (its tags back in the header).
bytes stored_form(const lookup& res);

/// Unix time in microseconds, the clock of tag removals and of values written with tags.
int64_t unix_us();

/// Index of the tier that keeps tag removal times (the last shared tier), or the chain's size.
size_t tag_source(const tier_chain& tiers);

/// Records in `clock` what `tier` answered for the removal time of `tag`.
void learn_tag(tag_clock& clock, const std::string& tag, const caf::expected<lookup>& answer);

/// Looks up the removal times of `tags` in `tier` (the shared tier that keeps them) and
/// records them, then calls `then(ok)`; `ok` is false if the tier failed to answer for any.
template <class Self, class Wait, class Then>
void resolve_tags(Self self, const tier_actor& tier, Wait wait, std::shared_ptr<tag_clock> clock,
                  std::vector<std::string> tags, Then then) {
  auto left = std::make_shared<size_t>(tags.size());
  auto ok = std::make_shared<bool>(true);
  for (auto& tag : tags)
    self->request(tier, wait, get_atom::value, tag_time_key(tag))
        .then(
            [=](lookup& res) mutable {
              learn_tag(*clock, tag, res);
              if (--*left == 0)
                then(*ok);
            },
            [=](caf::error&) mutable {
              *ok = false;
              if (--*left == 0)
                then(false);
            });
}

/// `admit` for a reader that can wait: tags this node has no removal time for are looked up
/// first in the chain's tier that keeps them (`wait_of(index)` is how long to wait for it;
/// without such a tier they count as never removed). Calls `then(res, hidden)` with what
/// callers get: a miss where a tag removal hides the value, or where the lookup failed (better
/// a read below or a load than a value whose tag may be removed).
template <class Self, class WaitOf, class Then>
void admit_resolving(Self self, const tier_chain& tiers, WaitOf wait_of,
                     const std::shared_ptr<tag_clock>& clock, lookup res, Then then) {
  if (!res.found || !has_tag_header(res.value.view())) {
    then(std::move(res), false);
    return;
  }
  auto source = tag_source(tiers);
  bool resolvable = source < tiers.size();
  std::vector<std::string> unknown;
  auto verdict = admit(res, clock.get(), resolvable ? &unknown : nullptr);
  if (verdict != tag_verdict::unknown) {
    then(std::move(res), verdict == tag_verdict::hidden);
    return;
  }
  resolve_tags(self, tiers[source].handle, wait_of(source), clock, std::move(unknown),
               [=](bool ok) mutable {
                 bool hidden = !ok || admit(res, clock.get()) == tag_verdict::hidden;
                 if (hidden)
                   res = lookup{};
                 then(std::move(res), hidden);
               });
}

} // namespace mtcache::detail

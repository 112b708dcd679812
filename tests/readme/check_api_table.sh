#!/usr/bin/env bash
# The README's table of requests a cache answers lists exactly the signatures of
# `cache_actor` in messages/interfaces.hpp, as "(args...) -> reply": fails if a request is
# missing from the table, or the table lists one the interface does not have.
# Usage: check_api_table.sh [SOURCE_DIR]
set -euo pipefail
cd "${1:-$(dirname "$0")/../..}"

# Each caf::replies_to<ARGS>::with<REPLY> of cache_actor as "(ARGS) -> REPLY", angle brackets
# matched (std::vector<std::string> holds both "::" and ">").
from_header=$(awk '
  # The text inside the <...> that opens at position i (just after "<") of s.
  function inside(s, i,   depth, c, j) {
    depth = 1
    for (j = i; j <= length(s); j++) {
      c = substr(s, j, 1)
      if (c == "<") depth++
      else if (c == ">" && --depth == 0) return substr(s, i, j - i)
    }
    return ""
  }
  /^using cache_actor = caf::typed_actor</ { on = 1; next }
  on { if ($0 !~ /^ *\/\//) text = text " " $0 }
  on && />>;/ { on = 0 }
  END {
    while ((at = index(text, "replies_to<")) > 0) {
      text = substr(text, at + length("replies_to<"))
      args = inside(text, 1)
      text = substr(text, length(args) + 2)
      sub(/^::with</, "", text)
      reply = inside(text, 1)
      gsub(/  +/, " ", args)
      print "(" args ") -> " reply
    }
  }' messages/interfaces.hpp | sort)

# The first column of the table rows after the "<!-- api table -->" marker.
from_readme=$(awk '/<!-- api table -->/ { on = 1; next } on && /^$/ && seen { exit }
                   on && /^\| `/ { seen = 1; split($0, cell, "`"); print cell[2] }' README.md | sort)

if [[ -z $from_readme ]]; then
  echo "README.md: no table after <!-- api table -->" >&2
  exit 1
fi
if ! diff <(printf '%s\n' "$from_header") <(printf '%s\n' "$from_readme") >&2; then
  echo "README.md's request table and cache_actor (messages/interfaces.hpp) differ: < header, > README" >&2
  exit 1
fi

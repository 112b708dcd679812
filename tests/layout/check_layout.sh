#!/usr/bin/env bash
# Checks the folder layering of the sources (README, "Folders"):
# - every include of ours reads "mtcache/<folder>/<file>.hpp" and names a file that exists;
# - includes run downward only: messages < store, codec < redis < memcached < actors <
#   runtime < cli, and store and codec never include each other; cli/ (the operator's
#   command line, a program of the project) may include private headers, and nothing
#   includes cli/;
# - a public header (outside store/, redis/, memcached/, cli/ and every detail/ folder)
#   includes no private header, so that the installed headers are complete; examples/,
#   written as users would, include public headers only.
# Usage: check_layout.sh [--graph] [SOURCE_DIR]. With --graph it prints the include graph
# (folder -> folder, number of includes) before checking.
set -euo pipefail

graph=0
if [[ ${1:-} == --graph ]]; then
  graph=1
  shift
fi
cd "${1:-$(dirname "$0")/../..}"

folders=(messages store codec redis memcached actors runtime cli examples)
grep -rnH --include='*.hpp' --include='*.cpp' -E '^[[:space:]]*#[[:space:]]*include' \
  "${folders[@]}" |
  awk -v graph="$graph" '
    BEGIN {
      rank["messages"] = 0; rank["store"] = 1; rank["codec"] = 1; rank["redis"] = 2
      rank["memcached"] = 3; rank["actors"] = 4; rank["runtime"] = 5; rank["cli"] = 6
      rank["examples"] = 6
      private_folder["store"] = 1; private_folder["redis"] = 1; private_folder["memcached"] = 1
      private_folder["cli"] = 1
      failures = 0
    }
    function fail(msg) {
      print where ": " msg > "/dev/stderr"
      failures++
    }
    {
      # grep prints path:line:text (no path of ours has a colon).
      file = $0; sub(/:.*/, "", file)
      text = $0; sub(/^[^:]*:[^:]*:/, "", text)
      where = file ":" substr($0, length(file) + 2, index(substr($0, length(file) + 2), ":") - 1)
      if (text ~ /#[ \t]*include[ \t]*</)
        next
      if (!match(text, /"[^"]*"/)) {
        fail("unreadable include: " text)
        next
      }
      target = substr(text, RSTART + 1, RLENGTH - 2)
      if (target == "mtcache/mtcache.hpp") {
        to = "runtime"; path = "runtime/mtcache.hpp"
      } else if (target ~ /^mtcache\/[a-z_]+\/.+\.hpp$/) {
        split(target, parts, "/"); to = parts[2]; path = substr(target, 9)
      } else {
        fail("include \"" target "\" does not read \"mtcache/<folder>/<file>.hpp\"")
        next
      }
      split(file, parts, "/"); from = parts[1]
      edges[from " -> " to]++
      if (!(to in rank) || to == "examples" || (to == "cli" && from != "cli")) {
        fail("include of \"" target "\": no such folder")
        next
      }
      if ((getline line < path) < 0)
        fail("include of \"" target "\": no such file")
      close(path)
      if (from != to && rank[to] >= rank[from])
        fail(from "/ includes \"" target "\": includes run downward only " \
             "(messages < store, codec < redis < memcached < actors < runtime)")
      user_facing = from == "examples" ||
                    (file ~ /\.hpp$/ && !(from in private_folder) && file !~ /\/detail\//)
      private_target = (to in private_folder) || path ~ /\/detail\//
      if (user_facing && private_target)
        fail("public " (from == "examples" ? "example" : "header") " includes private \"" \
             target "\"")
    }
    END {
      if (graph) {
        for (edge in edges) {
          split(edge, ends, " -> ")
          printf "%d %s %-28s %4d\n", 9 - rank[ends[1]], ends[1], edge, edges[edge] | \
            "sort -k1,1n -k2,2 -k3 | cut -d\" \" -f3-"
        }
        close("sort -k1,1n -k2,2 -k3 | cut -d\" \" -f3-")
      }
      if (failures) {
        print failures " layering violation(s)" > "/dev/stderr"
        exit 1
      }
    }'

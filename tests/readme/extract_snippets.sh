#!/usr/bin/env bash
# Turns the C++ blocks of README.md's "Using it" section into one translation unit, so that
# the test readme_snippets can compile and link them against the build as a user would.
#
# Every ```cpp block of the section follows a marker that says where its code belongs:
#   <!-- compiled (tests/readme): file -->    at namespace scope (types of the user's own);
#   <!-- compiled (tests/readme): main -->    statements of main(), in README order, so later
#                                             blocks use what earlier ones declared;
#   <!-- compiled (tests/readme): actor -->   statements of an actor's behaviour: `self` is a
#                                             caf::event_based_actor*, `cache` the result of
#                                             spawn_cache, `key` and `payload` strings.
# The #include lines of every block go first, as a user's file would have them, followed by
# what the snippets take as the reader's own: a function `query_database(key)` that returns a
# string. `#line` directives make compiler errors point at README.md.
#
# It fails if a C++ block of the section has no marker, a marker no block, or the section has
# other than EXPECTED_BLOCKS blocks (so removing one fails too: change the number with it).
# Usage: extract_snippets.sh README.md OUTPUT.cpp
set -euo pipefail

expected_blocks=12
readme=$1
output=$2

tmp="$output.tmp"
awk -v expected="$expected_blocks" -v readme="$readme" '
  function fail(msg) {
    print readme ":" (at_end ? "" : NR ":") " " msg > "/dev/stderr"
    failed = 1
    exit 1
  }
  /^## / {
    if (in_block)
      fail("code block not closed")
    in_section = $0 == "## Using it"
    if (in_section)
      found = 1
    next
  }
  !in_section { next }
  in_block && /^```/ {
    in_block = 0
    next
  }
  in_block {
    if ($0 ~ /^#include/) {
      if (!($0 in seen)) {
        seen[$0] = 1
        includes = includes $0 "\n"
      }
      need_line = 1
      next
    }
    if (need_line)
      code[context] = code[context] "#line " NR " \"" readme "\"\n"
    need_line = 0
    code[context] = code[context] $0 "\n"
    next
  }
  /^<!-- compiled \(tests\/readme\): (file|main|actor) -->$/ {
    pending = $4
    next
  }
  /^<!-- compiled/ { fail("unknown marker (file, main or actor): " $0) }
  /^```cpp/ {
    if (pending == "")
      fail("C++ block without a <!-- compiled (tests/readme): ... --> marker")
    context = pending
    pending = ""
    in_block = 1
    need_line = 1
    ++blocks
    next
  }
  pending != "" { fail("marker not directly followed by a ```cpp block") }
  END {
    if (failed)
      exit 1
    at_end = 1
    if (!found)
      fail("no \"## Using it\" section")
    if (in_block)
      fail("code block not closed")
    if (blocks != expected)
      fail("\"Using it\" has " blocks " C++ blocks, the test expects " expected)
    print "// Generated from " readme " (\"Using it\") by tests/readme/extract_snippets.sh."
    printf "%s", includes
    print "#include <string>"
    print ""
    print "std::string query_database(const std::string& key) {"
    print "  return \"{\\\"id\\\":\\\"\" + key + \"\\\"}\";"
    print "}"
    print ""
    printf "%s", code["file"]
    print ""
    print "void in_an_actor(caf::event_based_actor* self,"
    print "                 const caf::expected<mtcache::cache_actor>& cache,"
    print "                 const std::string& key, const std::string& payload) {"
    printf "%s", code["actor"]
    print "}"
    print ""
    print "int main() {"
    printf "%s", code["main"]
    print "}"
  }
' "$readme" >"$tmp"
mv "$tmp" "$output"

#!/usr/bin/env bash
# The README's Performance table is bench/results/latest.md, as bench/run_all writes both:
# fails if the text between the README's "bench table" markers differs from it.
# Usage: check_bench_table.sh [SOURCE_DIR]
set -euo pipefail
cd "${1:-$(dirname "$0")/../..}"
in_readme=$(awk '/<!-- bench table: end -->/ { on = 0 } on { print } /<!-- bench table: begin -->/ { on = 1 }' README.md)
if [[ -z $in_readme ]]; then
  echo "README.md: no <!-- bench table: begin/end --> markers" >&2
  exit 1
fi
if ! diff <(printf '%s\n' "$in_readme") bench/results/latest.md >&2; then
  echo "README.md's Performance table differs from bench/results/latest.md (run bench/run_all)" >&2
  exit 1
fi

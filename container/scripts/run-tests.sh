#!/usr/bin/env bash
# Runs the server's compiled tests (dist/test/) with node's test runner, in two groups, so that `npm test`
# takes less time on a 2-CPU machine without making any test depend on luck:
#
# - Tests that time something (runs sized to last a few seconds on this machine, deadlines, drain times,
#   request timeouts, latency under load) run one file at a time, as node's runner does by default on two
#   CPUs: other test files running beside them would steal the CPU time their durations assume.
# - The rest (what the server answers, bad input, codecs, configuration, packaging) mostly wait for I/O and
#   run three files at a time. Run with every file at once, the timing tests failed on this machine.
#
# A new test file runs in the concurrent group unless it is listed in TIMED below: list it there when it
# measures or waits on time.
#
# Usage (from container/, after tsc): bash scripts/run-tests.sh [node binary]   (default: node)
set -euo pipefail
cd "$(dirname "$0")/.."
node_bin="${1:-node}"

TIMED=(batching bench-targets chaos engine-robustness http-edges model-config observability overlong-run
  security server-robustness shutdown worker-crash)

timed=()
rest=()
for file in dist/test/*.test.js; do
  name="$(basename "$file" .test.js)"
  if [[ " ${TIMED[*]} " == *" $name "* ]]; then timed+=("$file"); else rest+=("$file"); fi
done
for name in "${TIMED[@]}"; do
  [[ -f "dist/test/$name.test.js" ]] || { echo "run-tests.sh: TIMED names $name, but dist/test/$name.test.js does not exist" >&2; exit 1; }
done

status=0
"$node_bin" --test --test-concurrency=3 --test-reporter=spec "${rest[@]}" || status=1
"$node_bin" --test --test-concurrency=1 --test-reporter=spec "${timed[@]}" || status=1
exit "$status"

